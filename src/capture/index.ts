export { CAPTURE_PROBLEM, type CaptureProblem, MAX_CAPTURED_LENGTH } from './capture-problem.js'
export { mergeReaders } from './merge-readers.js'
export { type CaptureOptions, openCapture } from './open-capture.js'
