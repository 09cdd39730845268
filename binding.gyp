{
  # Two optional native addons, built by scripts/build-native.js (npm install):
  # - flowlog_packet_ring: the af-packet capture backend (native/packet-ring.c), Linux only,
  #   needs nothing but the kernel headers;
  # - flowlog_igzip: fast gzip through ISA-L (native/igzip.c), only with -Dwith_igzip=1
  #   (the script passes it when libisal-dev is installed).
  "variables": {
    "with_igzip%": 0,
    "with_packet_ring%": 1
  },
  "targets": [],
  "conditions": [
    ["OS == 'linux' and with_packet_ring == 1", {
      "targets": [
        {
          "target_name": "flowlog_packet_ring",
          "sources": ["native/packet-ring.c"],
          "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
        }
      ]
    }],
    ["with_igzip == 1", {
      "targets": [
        {
          "target_name": "flowlog_igzip",
          "sources": ["native/igzip.c"],
          "libraries": ["-lisal"],
          "cflags": ["-O2", "-Wall"]
        }
      ]
    }]
  ]
}
