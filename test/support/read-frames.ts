import { type FrameReader, newFrame } from '../../src/core/frame.js'

export interface ReadFrame {
  data: number[]
  time: number
  capturedLength: number
  originalLength: number
  linkType: number
  device: string | null
}

/**
 * Reads every frame of `reader` and closes it, copying what the reader lends out (a frame is only
 * valid until the next call). Test-only: real consumers never copy.
 */
export function readFrames(reader: FrameReader): { frames: ReadFrame[]; problems: Record<string, number> } {
  const frame = newFrame()
  const frames: ReadFrame[] = []
  while (reader.next(frame)) {
    frames.push({
      data: Array.from(frame.data.subarray(frame.offset, frame.offset + frame.capturedLength)),
      time: frame.time,
      capturedLength: frame.capturedLength,
      originalLength: frame.originalLength,
      linkType: frame.linkType,
      device: frame.device,
    })
  }
  const problems = Object.fromEntries(reader.problems)
  reader.close()
  return { frames, problems }
}
