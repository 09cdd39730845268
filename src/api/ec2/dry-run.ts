import { ControlError } from '../../control/control-error.js'

/** EC2's answer to a DryRun call that would have succeeded. */
export function dryRunSucceeded(): ControlError {
  return new ControlError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.')
}
