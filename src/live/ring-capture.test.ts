import assert from 'node:assert/strict'
import { endianness } from 'node:os'
import { describe, test } from 'node:test'
import { FlowlogError } from '../core/errors.js'
import { LINKTYPE } from '../core/frame.js'
import type { OpenedRing, PacketRingAddon, PacketRingHandle, PacketRingOptions } from './packet-ring.js'
import { RingCapture, ringGeometry, UnsupportedDeviceError } from './ring-capture.js'

const LE = endianness() === 'LE'

/**
 * The addon's part played in memory: a ring the test fills as the kernel would, counters the
 * test sets, and a record of what the capture did with them.
 */
class FakeKernel implements PacketRingAddon {
  options: PacketRingOptions | null = null
  onReady: ((error: string | null) => void) | null = null
  buffer = new ArrayBuffer(0)
  released: number[] = []
  /** What the next stats() answers: packets (queued plus dropped) and drops. */
  counters: [number, number] = [0, 0]
  paused = false
  closed = false
  private filled = 0

  constructor(private readonly hardwareType = 1) {}

  open(_device: string, options: PacketRingOptions, onReady: (error: string | null) => void): OpenedRing {
    this.options = options
    this.onReady = onReady
    this.buffer = new ArrayBuffer(options.blockSize * options.blockCount)
    return {
      handle: {} as PacketRingHandle,
      ring: this.buffer,
      blockSize: options.blockSize,
      blockCount: options.blockCount,
      hardwareType: this.hardwareType,
    }
  }

  release(_handle: PacketRingHandle, block: number): void {
    this.released.push(block)
    new DataView(this.buffer).setUint32(block * (this.options?.blockSize ?? 0) + 8, 0, LE)
  }

  stats(): [number, number] {
    const answer = this.counters
    this.counters = [0, 0]
    return answer
  }

  pause(): void {
    this.paused = true
  }

  close(): void {
    this.closed = true
  }

  probe(): string | null {
    return null
  }

  /** The kernel queues `packets` 60-byte packets in the next block and hands it over. */
  fill(packets: number): void {
    const size = this.options?.blockSize ?? 0
    const blocks = this.options?.blockCount ?? 1
    const base = (this.filled++ % blocks) * size
    const view = new DataView(this.buffer)
    view.setUint32(base + 12, packets, LE)
    view.setUint32(base + 16, 48, LE)
    view.setUint32(base + 20, 48 + packets * 160, LE)
    for (let i = 0; i < packets; i++) {
      const at = base + 48 + i * 160
      view.setUint32(at, i + 1 < packets ? 160 : 0, LE)
      view.setUint32(at + 12, 60, LE)
      view.setUint32(at + 16, 60, LE)
      view.setUint16(at + 24, 82, LE)
    }
    view.setUint32(base + 8, 1, LE)
    this.counters = [this.counters[0] + packets, this.counters[1]]
  }
}

function open(kernel: FakeKernel, bufferMiB = 1) {
  return RingCapture.open({ device: 'veth0', bufferMiB, snapLength: 256, onFrame: () => {}, addon: kernel })
}

describe('RingCapture', () => {
  test('ring geometry: 1 MiB blocks, smaller ones so that a small ring has 16', () => {
    assert.deepEqual(ringGeometry(32), { blockSize: 1 << 20, blockCount: 32 })
    assert.deepEqual(ringGeometry(4096), { blockSize: 1 << 20, blockCount: 4096 })
    assert.deepEqual(ringGeometry(4), { blockSize: 256 << 10, blockCount: 16 })
    assert.deepEqual(ringGeometry(1), { blockSize: 64 << 10, blockCount: 16 })
  })

  test('reads each block handed over once, in order, and gives it back', () => {
    const kernel = new FakeKernel()
    const capture = open(kernel)
    assert.equal(capture.linkType, LINKTYPE.ETHERNET)
    assert.equal(kernel.options?.promiscuous, 1)
    assert.equal(kernel.options?.snapLength, 256)
    for (let i = 0; i < 16; i++) kernel.fill(3)
    kernel.onReady?.(null)
    assert.equal(capture.frames, 24, 'at most 8 blocks a turn: the clock gets its turn under a flood')
    kernel.onReady?.(null)
    assert.equal(capture.frames, 48)
    // The kernel goes round the ring into the blocks given back.
    for (let i = 0; i < 4; i++) kernel.fill(3)
    kernel.onReady?.(null)
    assert.equal(capture.frames, 60)
    assert.deepEqual(kernel.released, [...Array.from({ length: 16 }, (_, i) => i), 0, 1, 2, 3])
    kernel.onReady?.(null)
    assert.equal(capture.frames, 60, 'nothing read twice')
    capture.close()
    assert.ok(kernel.closed)
  })

  test("kernel drops add up the socket's counters, which reset when read", () => {
    const kernel = new FakeKernel()
    const capture = open(kernel)
    kernel.counters = [10, 4]
    capture.requestStats()
    kernel.counters = [3, 2]
    capture.requestStats()
    assert.equal(capture.kernelDrops, 6)
    capture.close()
  })

  test('drain waits for the packets the kernel queued before it; stop counts what was never read', async () => {
    const kernel = new FakeKernel()
    const capture = open(kernel)
    kernel.fill(5)
    // The kernel counted 5 more, still in the block it is filling; it hands that over later.
    kernel.counters = [kernel.counters[0] + 5, 0]
    const drained = capture.drain(Date.now() + 5000)
    setTimeout(() => {
      kernel.counters = [0, 0]
      kernel.fill(5)
      kernel.counters = [0, 0]
    }, 30)
    await drained
    assert.equal(capture.frames, 10)
    // Three more queued, never handed over: lost when the capture stops.
    kernel.counters = [3, 0]
    await capture.stop()
    assert.ok(kernel.paused, 'the socket leaves the device before the last read')
    assert.ok(kernel.closed)
    assert.equal(capture.kernelDrops, 3)
  })

  test('a socket error (the device went away) ends the capture after reading what is there', () => {
    const kernel = new FakeKernel()
    const capture = open(kernel)
    kernel.fill(2)
    kernel.onReady?.('packet socket failed: Network is down')
    assert.equal(capture.frames, 2)
    assert.equal(capture.failure, 'veth0: packet socket failed: Network is down')
    capture.close()
  })

  test('devices that are neither Ethernet nor IP, and NFLOG groups, are refused', () => {
    assert.equal(open(new FakeKernel(0xfffe)).linkType, LINKTYPE.RAW)
    const infiniband = new FakeKernel(32)
    assert.throws(() => open(infiniband), UnsupportedDeviceError)
    assert.ok(infiniband.closed)
    assert.throws(
      () =>
        RingCapture.open({
          device: 'nflog:10',
          bufferMiB: 1,
          snapLength: 256,
          onFrame: () => {},
          addon: new FakeKernel(),
        }),
      (error: unknown) =>
        error instanceof FlowlogError && /NFLOG groups are read by tcpdump/.test(error.message),
    )
  })
})
