import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { repoPath } from '../../test/support/paths.js'
import { openCapture } from '../capture/open-capture.js'
import { newFrame } from '../core/frame.js'
import { DECODE, DECODE_NAMES, PacketView } from '../core/packet-view.js'
import { isRecordTime } from '../core/record-time.js'
import { decodeFrame } from './decoder.js'
import { FragmentPorts } from './fragment-ports.js'

/** What scripts/make-fixtures.py says each frame of each odd capture must decode to. */
interface ManifestCapture {
  file: string
  linkType: number
  description: string
  expect: string[]
  truncatedRecords?: number
  ipLengths?: (number | null)[]
  protocols?: (number | null)[]
  fragments?: (number | null)[]
  vlans?: number[]
  devices?: string[]
  firstTimeNs?: string
}

const dir = repoPath('test/fixtures/captures/odd')
const manifest = JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8')) as { captures: ManifestCapture[] }

describe('odd captures (scapy-written fixtures) read and decode as their manifest says', () => {
  for (const c of manifest.captures) {
    test(`${c.file}: ${c.description}`, () => {
      const reader = openCapture(`${dir}/${c.file}`)
      const frame = newFrame()
      const view = new PacketView()
      const fragments = new FragmentPorts()
      const seen: Required<Omit<ManifestCapture, 'file' | 'description' | 'linkType' | 'firstTimeNs'>> = {
        expect: [],
        truncatedRecords: 0,
        ipLengths: [],
        protocols: [],
        fragments: [],
        vlans: [],
        devices: [],
      }
      let firstTime: number | null = null
      while (reader.next(frame)) {
        assert.equal(frame.linkType, c.linkType)
        firstTime ??= frame.time
        // As the pipeline judges it: a flow packet with a time no flow log can carry is bad input.
        let result: number = decodeFrame(frame, view)
        if (result === DECODE.OK && !isRecordTime(frame.time)) result = DECODE.BAD_TIMESTAMP
        const ok = result === DECODE.OK
        if (ok) fragments.apply(view, frame.time)
        seen.expect.push(DECODE_NAMES[result]!)
        seen.ipLengths.push(ok ? view.ipLength : null)
        seen.protocols.push(ok ? view.protocol : null)
        seen.fragments.push(ok ? view.fragment : null)
        seen.vlans.push(view.vlan)
        seen.devices.push(frame.device ?? '')
      }
      seen.truncatedRecords = reader.problems.get('truncated-record') ?? 0
      reader.close()
      assert.deepEqual(seen.expect, c.expect)
      assert.equal(seen.truncatedRecords, c.truncatedRecords ?? 0)
      for (const key of ['ipLengths', 'protocols', 'fragments', 'vlans', 'devices'] as const) {
        if (c[key] !== undefined) assert.deepEqual(seen[key], c[key], key)
      }
      if (c.firstTimeNs !== undefined) {
        const ns = BigInt(c.firstTimeNs)
        assert.equal(firstTime, Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9)
      }
    })
  }
})
