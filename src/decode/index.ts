export { decodeFrame, LINKTYPE_ALIAS } from './decoder.js'
export { FragmentPorts } from './fragment-ports.js'
