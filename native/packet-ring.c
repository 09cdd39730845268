// Live capture from an AF_PACKET TPACKET_V3 ring, read in place by JavaScript
// (src/live/ring-capture.ts). The kernel fills fixed-size blocks with variable-length frames and
// hands over a whole block at a time; this addon only sets the ring up, maps it once into an
// external ArrayBuffer (no copy, ever), calls one JavaScript function when blocks are ready
// (a uv_poll_t on the socket), gives blocks back (release) and reads the kernel's counters.
// JavaScript walks the blocks itself: one crossing per block, none per packet.
//
//   open(device, { blockSize, blockCount, retireMs, snapLength, promiscuous }, onReady)
//     -> { handle, ring: ArrayBuffer, blockSize, blockCount, hardwareType }
//     onReady(null) when blocks are ready, onReady(message) once when the socket fails
//     (the device went down or away); polling stops then.
//   release(handle, block)  gives block `block` back to the kernel
//   stats(handle)           -> [packets, drops] since the last call (PACKET_STATISTICS resets)
//   pause(handle)           stops new packets reaching the ring (what is in it stays readable)
//   close(handle)           stops polling, detaches the ArrayBuffer, unmaps, closes the socket
//   probe()                 -> null when this process may open packet sockets, else why not
//
// Linux only; needs nothing but the kernel headers.
#define NAPI_VERSION 8
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

typedef struct {
  napi_env env;
  int fd;
  uint8_t *map;
  size_t map_size;
  uint32_t block_size;
  uint32_t block_count;
  uv_poll_t *poll;
  napi_ref on_ready;
  // The handle object keeps itself alive while open (an open socket is a root, as libuv's are).
  napi_ref self;
  napi_ref ring;
  napi_async_context async;
  int open;
} Ring;

static napi_value fail(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

static napi_value fail_errno(napi_env env, const char *what, int error) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", what, strerror(error));
  return fail(env, error == EPERM || error == EACCES ? "EPERM" : "ERR_PACKET_RING", message);
}

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static Ring *ring_of(napi_env env, napi_value handle) {
  Ring *ring = NULL;
  if (napi_unwrap(env, handle, (void **)&ring) != napi_ok || ring == NULL) {
    fail(env, "ERR_PACKET_RING", "not a packet-ring handle");
    return NULL;
  }
  return ring;
}

static void poll_closed(uv_handle_t *handle) { free(handle); }

// Everything but the struct itself, which the handle's finalizer frees.
static void teardown(Ring *ring) {
  if (!ring->open) return;
  ring->open = 0;
  napi_env env = ring->env;
  if (ring->poll != NULL) {
    uv_poll_stop(ring->poll);
    uv_close((uv_handle_t *)ring->poll, poll_closed);
    ring->poll = NULL;
  }
  // Typed arrays over the ring read as empty from now on, instead of touching unmapped memory.
  napi_value buffer;
  if (napi_get_reference_value(env, ring->ring, &buffer) == napi_ok && buffer != NULL)
    napi_detach_arraybuffer(env, buffer);
  munmap(ring->map, ring->map_size);
  ring->map = NULL;
  close(ring->fd);
  ring->fd = -1;
  napi_delete_reference(env, ring->ring);
  napi_delete_reference(env, ring->on_ready);
  napi_delete_reference(env, ring->self);
  napi_async_destroy(env, ring->async);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static void call_on_ready(Ring *ring, const char *error) {
  napi_env env = ring->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, arg, result;
  if (napi_get_reference_value(env, ring->on_ready, &fn) == napi_ok && fn != NULL) {
    // MakeCallback needs an object as `this`.
    napi_get_global(env, &recv);
    if (error == NULL) napi_get_null(env, &arg);
    else napi_create_string_utf8(env, error, NAPI_AUTO_LENGTH, &arg);
    if (napi_make_callback(env, ring->async, recv, fn, 1, &arg, &result) != napi_ok) {
      bool pending = false;
      napi_is_exception_pending(env, &pending);
      if (pending) {
        napi_value exception;
        napi_get_and_clear_last_exception(env, &exception);
        napi_fatal_exception(env, exception);
      }
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_poll(uv_poll_t *poll, int status, int events) {
  (void)events;
  Ring *ring = poll->data;
  if (!ring->open) return;
  if (status == 0) {
    call_on_ready(ring, NULL);
    return;
  }
  // libuv stops polling on POLLERR and says EBADF; the socket's own error says what happened
  // (ENETDOWN: the device went down or was deleted).
  int error = 0;
  socklen_t length = sizeof error;
  if (getsockopt(ring->fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error == 0) error = -status;
  char message[160];
  snprintf(message, sizeof message, "packet socket failed: %s", error > 0 ? strerror(error) : uv_strerror(status));
  call_on_ready(ring, message);
}

static int get_u32(napi_env env, napi_value object, const char *name, uint32_t *value) {
  napi_value v;
  return napi_get_named_property(env, object, name, &v) == napi_ok &&
                 napi_get_value_uint32(env, v, value) == napi_ok
             ? 0
             : -1;
}

static napi_value open_ring(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3)
    return fail(env, "ERR_PACKET_RING", "open(device, options, onReady): three arguments expected");
  char device[IFNAMSIZ + 1];
  size_t device_length = 0;
  if (napi_get_value_string_utf8(env, argv[0], device, sizeof device, &device_length) != napi_ok ||
      device_length == 0 || device_length >= IFNAMSIZ)
    return fail(env, "ERR_PACKET_RING", "open: the device must be a name of 1 to 15 characters");
  uint32_t block_size, block_count, retire_ms, snap_length, promiscuous;
  if (get_u32(env, argv[1], "blockSize", &block_size) || get_u32(env, argv[1], "blockCount", &block_count) ||
      get_u32(env, argv[1], "retireMs", &retire_ms) || get_u32(env, argv[1], "snapLength", &snap_length) ||
      get_u32(env, argv[1], "promiscuous", &promiscuous))
    return fail(env, "ERR_PACKET_RING",
                "open: options need blockSize, blockCount, retireMs, snapLength, promiscuous (numbers)");
  long page = sysconf(_SC_PAGESIZE);
  if (block_size == 0 || block_size % (uint32_t)page != 0 || block_count == 0 ||
      (uint64_t)block_size * block_count > (uint64_t)1 << 40)
    return fail(env, "ERR_PACKET_RING", "open: blockSize must be a multiple of the page size, blockCount > 0");
  napi_valuetype type;
  if (napi_typeof(env, argv[2], &type) != napi_ok || type != napi_function)
    return fail(env, "ERR_PACKET_RING", "open: onReady must be a function");

  unsigned ifindex = if_nametoindex(device);
  if (ifindex == 0) return fail_errno(env, device, errno);
  // Protocol 0: no packet reaches the socket before it is bound to the device (else, between
  // socket() and bind(), it would see every device's).
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail_errno(env, "socket(AF_PACKET)", errno);
  const char *step = NULL;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, device, device_length);
  int version = TPACKET_V3;
  int one = 1;
  // The snap length as a one-instruction filter ("accept this many bytes"): the kernel copies no
  // more of each packet into the ring, so a block holds as many packets as it can.
  struct sock_filter snap[] = {BPF_STMT(BPF_RET | BPF_K, snap_length)};
  struct sock_fprog program = {.len = 1, .filter = snap};
  struct tpacket_req3 req;
  memset(&req, 0, sizeof req);
  req.tp_block_size = block_size;
  req.tp_block_nr = block_count;
  // V3 frames are variable-length; the frame fields only have to be consistent.
  req.tp_frame_size = TPACKET_ALIGNMENT << 7;
  req.tp_frame_nr = (block_size / req.tp_frame_size) * block_count;
  req.tp_retire_blk_tov = retire_ms;
  size_t map_size = (size_t)block_size * block_count;
  uint8_t *map = MAP_FAILED;
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) step = "SIOCGIFHWADDR";
  else if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0)
    step = "PACKET_VERSION TPACKET_V3";
  // On loopback the kernel hands a packet socket every packet twice, as sent and as received:
  // libpcap drops the sent copy there, and so does this (other devices' sent packets are real).
  else if (ifr.ifr_hwaddr.sa_family == ARPHRD_LOOPBACK &&
           setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0)
    step = "PACKET_IGNORE_OUTGOING (loopback)";
  else if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0)
    step = "SO_ATTACH_FILTER (snap length)";
  else if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0)
    step = "PACKET_RX_RING";
  else if ((map = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED)
    step = "mmap (packet ring)";
  if (step == NULL && promiscuous) {
    struct packet_mreq mreq;
    memset(&mreq, 0, sizeof mreq);
    mreq.mr_ifindex = (int)ifindex;
    mreq.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0)
      step = "PACKET_ADD_MEMBERSHIP (promiscuous)";
  }
  if (step == NULL) {
    struct sockaddr_ll address;
    memset(&address, 0, sizeof address);
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);
    address.sll_ifindex = (int)ifindex;
    int error = 0;
    socklen_t length = sizeof error;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0) step = "bind";
    // A device that is down binds, but the socket carries ENETDOWN at once.
    else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) step = "SO_ERROR";
    else if (error != 0) {
      errno = error;
      step = "bind";
    }
  }
  if (step != NULL) {
    int error = errno;
    if (map != MAP_FAILED) munmap(map, map_size);
    close(fd);
    char what[64];
    snprintf(what, sizeof what, "%s on %s", step, device);
    return fail_errno(env, what, error);
  }

  Ring *ring = calloc(1, sizeof *ring);
  uv_loop_t *loop = NULL;
  napi_value handle, buffer, result, value, name;
  int ok = ring != NULL && napi_get_uv_event_loop(env, &loop) == napi_ok && loop != NULL;
  if (ok) {
    ring->env = env;
    ring->fd = fd;
    ring->map = map;
    ring->map_size = map_size;
    ring->block_size = block_size;
    ring->block_count = block_count;
    ring->open = 1;
    ok = napi_create_object(env, &handle) == napi_ok &&
         napi_wrap(env, handle, ring, finalize, NULL, NULL) == napi_ok;
    if (!ok) free(ring);
    ring = ok ? ring : NULL;
  }
  // From here the handle owns the struct (freed by its finalizer); teardown() releases the rest.
  ok = ok && napi_create_external_arraybuffer(env, map, map_size, NULL, NULL, &buffer) == napi_ok &&
       napi_create_reference(env, buffer, 1, &ring->ring) == napi_ok &&
       napi_create_reference(env, argv[2], 1, &ring->on_ready) == napi_ok &&
       napi_create_reference(env, handle, 1, &ring->self) == napi_ok &&
       napi_create_string_utf8(env, "flowlog:packet-ring", NAPI_AUTO_LENGTH, &name) == napi_ok &&
       napi_async_init(env, handle, name, &ring->async) == napi_ok;
  if (ok) {
    ring->poll = malloc(sizeof *ring->poll);
    ok = ring->poll != NULL && uv_poll_init(loop, ring->poll, fd) == 0;
    if (ok) {
      ring->poll->data = ring;
      ok = uv_poll_start(ring->poll, UV_READABLE, on_poll) == 0;
      if (!ok) {
        uv_close((uv_handle_t *)ring->poll, poll_closed);
        ring->poll = NULL;
      }
    } else {
      free(ring->poll);
      ring->poll = NULL;
    }
  }
  if (!ok) {
    if (ring != NULL && ring->open) teardown(ring);
    else {
      // Not wrapped yet (no event loop): nothing else owns the struct.
      free(ring);
      munmap(map, map_size);
      close(fd);
    }
    return fail(env, "ERR_PACKET_RING", "open: cannot set up the ring's handle (out of memory?)");
  }
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "handle", handle);
  napi_set_named_property(env, result, "ring", buffer);
  napi_create_uint32(env, block_size, &value);
  napi_set_named_property(env, result, "blockSize", value);
  napi_create_uint32(env, block_count, &value);
  napi_set_named_property(env, result, "blockCount", value);
  napi_create_uint32(env, ifr.ifr_hwaddr.sa_family, &value);
  napi_set_named_property(env, result, "hardwareType", value);
  return result;
}

// The handle (and any further arguments) of release/stats/pause/close; NULL with an exception
// pending when they are missing or the handle is not one of ours.
static Ring *handle_args(napi_env env, napi_callback_info info, size_t wanted, napi_value *argv,
                         const char *usage) {
  size_t argc = wanted;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < wanted) {
    fail(env, "ERR_PACKET_RING", usage);
    return NULL;
  }
  return ring_of(env, argv[0]);
}

static napi_value release(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  Ring *ring = handle_args(env, info, 2, argv, "release(handle, block): two arguments expected");
  if (ring == NULL) return NULL;
  uint32_t block;
  if (napi_get_value_uint32(env, argv[1], &block) != napi_ok || block >= ring->block_count)
    return fail(env, "ERR_PACKET_RING", "release: no such block");
  if (!ring->open) return undefined(env);
  struct tpacket_block_desc *desc = (struct tpacket_block_desc *)(ring->map + (size_t)block * ring->block_size);
  // A release store: every read of the block's frames happens before the kernel may refill it.
  __atomic_store_n(&desc->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
  return undefined(env);
}

static napi_value stats(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Ring *ring = handle_args(env, info, 1, argv, "stats(handle): one argument expected");
  if (ring == NULL) return NULL;
  struct tpacket_stats_v3 st;
  memset(&st, 0, sizeof st);
  socklen_t length = sizeof st;
  if (ring->open && getsockopt(ring->fd, SOL_PACKET, PACKET_STATISTICS, &st, &length) != 0)
    return fail_errno(env, "PACKET_STATISTICS", errno);
  // The kernel reports tp_packets as packets queued plus packets dropped.
  napi_value result, value;
  napi_create_array_with_length(env, 2, &result);
  napi_create_uint32(env, st.tp_packets, &value);
  napi_set_element(env, result, 0, value);
  napi_create_uint32(env, st.tp_drops, &value);
  napi_set_element(env, result, 1, value);
  return result;
}

static napi_value pause_ring(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Ring *ring = handle_args(env, info, 1, argv, "pause(handle): one argument expected");
  if (ring == NULL) return NULL;
  if (!ring->open) return undefined(env);
  // A filter that accepts nothing: the kernel stops queuing (and counting) packets for the socket,
  // while the ring, its retire timer and the counters stay, so what was queued is still handed
  // over. (Binding again with protocol 0 would not do: the kernel keeps the current protocol.)
  struct sock_filter none[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
  struct sock_fprog program = {.len = 1, .filter = none};
  if (setsockopt(ring->fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0)
    return fail_errno(env, "SO_ATTACH_FILTER (pause)", errno);
  return undefined(env);
}

static napi_value close_ring(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  Ring *ring = handle_args(env, info, 1, argv, "close(handle): one argument expected");
  if (ring == NULL) return NULL;
  teardown(ring);
  return undefined(env);
}

static napi_value probe(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    close(fd);
    napi_value null;
    napi_get_null(env, &null);
    return null;
  }
  char message[160];
  snprintf(message, sizeof message, "socket(AF_PACKET): %s", strerror(errno));
  napi_value result;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  const struct {
    const char *name;
    napi_callback fn;
  } functions[] = {{"open", open_ring}, {"release", release}, {"stats", stats},
                   {"pause", pause_ring}, {"close", close_ring}, {"probe", probe}};
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    napi_value fn;
    if (napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].fn, NULL, &fn) != napi_ok ||
        napi_set_named_property(env, exports, functions[i].name, fn) != napi_ok)
      return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
