import assert from 'node:assert/strict'
import { test } from 'node:test'
import { eventsInDenseWindows } from './sliding-window.js'

const ev = (pairs: [number, string][]) => pairs.map(([time, key]) => ({ time, key }))

const cases: { name: string; events: [number, string][]; width: number; min: number; marks: boolean[] }[] = [
  {
    name: 'nothing dense',
    events: [
      [0, 'a'],
      [10, 'b'],
    ],
    width: 60,
    min: 3,
    marks: [false, false],
  },
  {
    name: 'three keys in the window',
    events: [
      [0, 'a'],
      [10, 'b'],
      [20, 'c'],
    ],
    width: 60,
    min: 3,
    marks: [true, true, true],
  },
  {
    name: 'repeats of one key do not count',
    events: [
      [0, 'a'],
      [1, 'a'],
      [2, 'a'],
      [3, 'b'],
    ],
    width: 60,
    min: 3,
    marks: [false, false, false, false],
  },
  {
    name: 'only the dense part is marked, anywhere in time (no grid)',
    events: [
      [0, 'x'],
      [500, 'a'],
      [530, 'b'],
      [559, 'c'],
      [2000, 'y'],
    ],
    width: 60,
    min: 3,
    marks: [false, true, true, true, false],
  },
  {
    name: 'the window is half-open: width 60 does not reach t+60',
    events: [
      [0, 'a'],
      [30, 'b'],
      [60, 'c'],
    ],
    width: 60,
    min: 3,
    marks: [false, false, false],
  },
]

for (const c of cases) {
  test(`eventsInDenseWindows: ${c.name}`, () => {
    assert.deepEqual(eventsInDenseWindows(ev(c.events), c.width, c.min), c.marks)
  })
}
