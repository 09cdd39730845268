import { type ChildProcess, spawn } from 'node:child_process'
import { repoPath } from './paths.js'

/** A running `flowlog console` (the real command), and how to stop it. */
export interface RunningConsole {
  url: string
  stop(): Promise<void>
}

export async function startConsole(args: readonly string[]): Promise<RunningConsole> {
  const child: ChildProcess = spawn(
    process.execPath,
    [repoPath('bin/flowlog.js'), 'console', '--listen', '127.0.0.1:0', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`flowlog console did not start: ${stderr}`)), 20_000)
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /http:\/\/\S+/.exec(out)
      if (m !== null) {
        clearTimeout(timer)
        resolve(m[0])
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`flowlog console exited with ${code}: ${stderr}`))
    })
  })
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}
