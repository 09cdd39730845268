#!/usr/bin/env node
// npm run bench:query: `flowlog query` against DuckDB reading the same files, and against
// `zcat | awk`, in one run. Issue 5 sets the target: query no slower than DuckDB on the same files.
// Builds (once, cached in bench/out/query/) N records as gzip AWS text in the aws key layout and the
// same records as Parquet, then times a selective filter on each. Exit 0 also on MISS (it is a
// measurement); non-zero when a tool fails or the tools disagree on the matching records.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { gzip } from 'node:zlib'
import { equivalentSql, sortSql, writeBenchConfig } from './bench-query-equivalents.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const OUT = join(ROOT, 'bench', 'out', 'query')
const TIME = '/usr/bin/time'
const GENERATOR_VERSION = 1
const gzipAsync = promisify(gzip)

const HELP = `usage: npm run bench:query -- [--records N] [--files F] [--runs R] [--only query|analyses]
         [--commands report,detect,audit,what-if,sql] [--no-build]

Makes (once, cached in bench/out/query/) N records (default 10000000) of AWS default-format flow
logs in F gzip text files (default 100, one per minute in the aws key layout), and the same records
as F Parquet files; then times, R times each (default 3, the best run counts):
  flowlog query --where 'dstport=22 and action=REJECT'   on the text files and on the Parquet files
  DuckDB: the same filter on read_csv(...) of the text files and read_parquet(...) of the Parquet
  zcat | awk '$7 == 22 && $13 == "REJECT"'               on the text files
Every tool writes the matching records (all 14 fields, CSV or text) to a file; the counts must agree.

Then (issue 14) every analysis command on both file sets, each against DuckDB running the equivalent
SQL on the same files in the same run, the two taking turns run by run: report (its default
reports), detect, audit and what-if (with a config of the 64 interfaces, written next to the
data), and sql, with each turn's own ratio beside the best runs' one. Targets: within 2x of
DuckDB's time, peak memory under 1.5 GB. --only picks one half, --commands some of the analysis
commands.`

const FIELDS =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'
const FILTER = 'dstport=22 and action=REJECT'
const SQL_FILTER = `dstport = 22 AND action = 'REJECT'`

async function main() {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '10000000' },
      files: { type: 'string', default: '100' },
      runs: { type: 'string', default: '3' },
      only: { type: 'string' },
      commands: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    console.log(HELP)
    return 0
  }
  const records = Number(values.records.replaceAll('_', ''))
  const files = Number(values.files)
  const runs = Number(values.runs)
  if (!Number.isInteger(records) || records < 1000)
    return usage(`--records: "${values.records}" is not a whole number >= 1000`)
  if (!Number.isInteger(files) || files < 1 || files > 10000)
    return usage(`--files: "${values.files}" is not 1-10000`)
  if (!Number.isInteger(runs) || runs < 1) return usage(`--runs: "${values.runs}" is not a whole number >= 1`)
  if (values.only !== undefined && values.only !== 'query' && values.only !== 'analyses')
    return usage(`--only: "${values.only}" is not query or analyses`)
  const commands = values.commands?.split(',').map((c) => c.trim())
  const known = ['report', 'detect', 'audit', 'what-if', 'sql']
  const unknown = commands?.find((c) => !known.includes(c))
  if (unknown !== undefined) return usage(`--commands: "${unknown}" is not one of ${known.join(', ')}`)
  if (!existsSync(TIME)) {
    console.error('bench:query: missing /usr/bin/time; install: apt-get install time')
    return 2
  }
  if (!values['no-build']) {
    const build = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b'], {
      cwd: ROOT,
      stdio: 'inherit',
    })
    if (build.status !== 0) return 2
  }

  const data = join(OUT, `v${GENERATOR_VERSION}-${records}-${files}`)
  const text = join(data, 'text')
  const parquet = join(data, 'parquet')
  if (!existsSync(join(data, 'done'))) {
    rmSync(data, { recursive: true, force: true })
    console.log(
      `bench:query: writing ${records.toLocaleString('en-US')} records in ${files} gzip text files ...`,
    )
    const t0 = performance.now()
    await writeText(text, records, files)
    console.log(`  ${((performance.now() - t0) / 1000).toFixed(1)} s; converting to Parquet with DuckDB ...`)
    const t1 = performance.now()
    await writeParquet(text, parquet)
    console.log(`  ${((performance.now() - t1) / 1000).toFixed(1)} s`)
    writeFileSync(join(data, 'done'), new Date().toISOString())
  }
  const textBytes = sizeOf(text)
  const parquetBytes = sizeOf(parquet)
  console.log(
    `bench:query: ${records.toLocaleString('en-US')} records; text ${mb(textBytes)} gzip in ${files} files, Parquet ${mb(parquetBytes)}; ` +
      `${availableParallelism()} CPUs, load ${loadavg()[0].toFixed(2)}, node ${process.version}`,
  )
  console.log(`filter: ${FILTER}\n`)

  const scratch = join(OUT, 'results')
  mkdirSync(scratch, { recursive: true })
  const summary = { records, files, node: process.version, load: loadavg()[0] }
  if (values.only !== 'analyses') {
    const query = queryBench({ text, parquet, scratch, records, runs })
    if (typeof query === 'number') return query
    Object.assign(summary, query)
  }
  if (values.only !== 'query') {
    const analyses = analysesBench({ data, text, parquet, scratch, records, runs, only: commands })
    if (typeof analyses === 'number') return analyses
    summary.analyses = analyses
  }
  writeFileSync(join(OUT, 'last-results.json'), `${JSON.stringify(summary, null, 2)}\n`)
  return 0
}

/** The query half: a selective filter, flowlog against DuckDB and zcat | awk. */
function queryBench({ text, parquet, scratch, records, runs }) {
  const flowlog = join(ROOT, 'bin', 'flowlog.js')
  const fields = FIELDS.split(' ').join(',')
  const duckdb = join(ROOT, 'scripts', 'bench-query-duckdb.js')
  const textGlob = join(text, '**', '*.log.gz')
  const parquetGlob = join(parquet, '**', '*.parquet')
  const tools = [
    {
      name: 'flowlog query (gzip text)',
      group: 'text',
      command: process.execPath,
      args: [
        flowlog,
        'query',
        '--no-summary',
        '--no-progress',
        '--unix-times',
        '-f',
        'csv',
        '--fields',
        fields,
        '--where',
        FILTER,
        text,
      ],
      header: true,
    },
    {
      name: 'DuckDB read_csv (gzip text)',
      group: 'text',
      command: process.execPath,
      args: [duckdb, `SELECT * FROM read_csv('${textGlob}', delim = ' ', header = true) WHERE ${SQL_FILTER}`],
      header: true,
    },
    {
      name: 'zcat | awk (gzip text)',
      group: 'text',
      command: '/bin/sh',
      args: [
        '-c',
        `find '${text}' -name '*.log.gz' -print0 | sort -z | xargs -0 zcat | awk '$7 == 22 && $13 == "REJECT"'`,
      ],
      header: false,
    },
    {
      name: 'flowlog query (Parquet)',
      group: 'parquet',
      command: process.execPath,
      args: [
        flowlog,
        'query',
        '--no-summary',
        '--no-progress',
        '--unix-times',
        '-f',
        'csv',
        '--fields',
        fields,
        '--where',
        FILTER,
        parquet,
      ],
      header: true,
    },
    {
      name: 'DuckDB read_parquet (Parquet)',
      group: 'parquet',
      command: process.execPath,
      args: [duckdb, `SELECT * FROM read_parquet('${parquetGlob}') WHERE ${SQL_FILTER}`],
      header: true,
    },
  ]

  const results = []
  for (const tool of tools) {
    let best = null
    for (let r = 0; r < runs; r++) {
      const m = measure(tool, join(scratch, 'out.txt'))
      if (m === null) return 2
      if (best === null || m.wall < best.wall) best = m
    }
    results.push({ ...tool, ...best })
    console.log(
      `${tool.name.padEnd(32)} ${best.wall.toFixed(2).padStart(7)} s wall  ${best.cpu.toFixed(2).padStart(7)} s CPU  ` +
        `${(records / best.wall / 1e6).toFixed(2).padStart(6)} M records/s  ${String(best.matches).padStart(8)} matches  ${mb(best.rss * 1024).padStart(9)} RSS`,
    )
  }
  const counts = new Set(results.map((r) => r.matches))
  if (counts.size !== 1) {
    console.error(
      `bench:query: the tools disagree on the matching records: ${results.map((r) => `${r.name} ${r.matches}`).join(', ')}`,
    )
    return 1
  }
  const by = (name) => results.find((r) => r.name === name)
  const ratio = (a, b) => by(b).wall / by(a).wall
  const textVsDuck = ratio('flowlog query (gzip text)', 'DuckDB read_csv (gzip text)')
  const textVsAwk = ratio('flowlog query (gzip text)', 'zcat | awk (gzip text)')
  const parquetVsDuck = ratio('flowlog query (Parquet)', 'DuckDB read_parquet (Parquet)')
  console.log(`\nspeed ratios (other tool's wall time / flowlog's; > 1: flowlog is faster)`)
  console.log(
    `  gzip text: flowlog vs DuckDB ${textVsDuck.toFixed(2)}x ${textVsDuck >= 1 ? 'OK' : 'MISS'} (target >= 1)`,
  )
  console.log(`  gzip text: flowlog vs zcat|awk ${textVsAwk.toFixed(2)}x`)
  console.log(
    `  Parquet:   flowlog vs DuckDB ${parquetVsDuck.toFixed(2)}x ${parquetVsDuck >= 1 ? 'OK' : 'MISS'} (target >= 1)`,
  )
  return { filter: FILTER, results, textVsDuck, textVsAwk, parquetVsDuck }
}

/** Peak memory target of every analysis command (issue 14). */
const MEMORY_TARGET_KB = 1.5e9 / 1024

/**
 * The analysis half: each command on the text and the Parquet files, and DuckDB running the SQL
 * that gives the same answer on the same files (bench-query-equivalents.js): the report's
 * group-bys; detect's groupings; audit's and what-if's verdicts of every record under the groups;
 * sql's own statement. For audit and what-if, the bare sort of every record in time order is timed
 * too (`sort`): the floor under any replay.
 */
function analysesBench({ data, text, parquet, scratch, records, runs, only }) {
  const flowlog = join(ROOT, 'bin', 'flowlog.js')
  const duckdb = join(ROOT, 'scripts', 'bench-query-duckdb.js')
  const { network, proposed } = writeBenchConfig(data)
  const common = ['--no-summary', '--no-progress']
  const sqlStatement = 'SELECT srcaddr, sum(bytes) AS bytes FROM flows GROUP BY 1 ORDER BY 2 DESC LIMIT 10'
  const all = [
    { name: 'report', args: ['report', '-f', 'json'] },
    { name: 'detect', args: ['detect', '-f', 'json', '--config', network] },
    { name: 'audit', args: ['audit', '-f', 'json', '--config', network] },
    { name: 'what-if', args: ['what-if', '-f', 'json', '--config', network, '--groups', proposed] },
    { name: 'sql', args: ['sql', '-f', 'csv', sqlStatement] },
  ]
  const commands = only === undefined ? all : all.filter((c) => only.includes(c.name))
  const equivalent = (name, from, iface) =>
    name === 'sql' ? sqlStatement.replace('FROM flows', `FROM ${from}`) : equivalentSql(name, from, iface)
  const sets = [
    // The text files' header names the column interface-id; the Parquet files, interface_id.
    {
      group: 'gzip text',
      dir: text,
      from: `read_csv('${join(text, '**', '*.log.gz')}', delim = ' ', header = true)`,
      iface: '"interface-id"',
    },
    {
      group: 'Parquet',
      dir: parquet,
      from: `read_parquet('${join(parquet, '**', '*.parquet')}')`,
      iface: 'interface_id',
    },
  ]
  // The tools take turns, run by run (flowlog, DuckDB, flowlog, ...): this machine's speed drifts
  // by tens of percent over minutes, and a ratio of runs made minutes apart measures the drift.
  // Each tool's best run, with the wall times of all its runs (`walls`, in turn order).
  const best = (...tools) => {
    const m = tools.map(() => null)
    const walls = tools.map(() => [])
    for (let r = 0; r < runs; r++) {
      for (const [i, tool] of tools.entries()) {
        const run = measure(tool, join(scratch, 'analysis.txt'))
        if (run === null) return tools.map(() => null)
        walls[i].push(run.wall)
        if (m[i] === null || run.wall < m[i].wall) m[i] = run
      }
    }
    return m.map((run, i) => ({ ...run, walls: walls[i] }))
  }
  console.log(`\nanalysis commands against DuckDB's equivalent SQL (targets: <= 2x DuckDB's time, < 1.5 GB)`)
  const results = []
  let failed = false
  for (const set of sets) {
    for (const c of commands) {
      const replays = c.name === 'audit' || c.name === 'what-if'
      const [mine, duck, sort = null] = best(
        {
          name: `flowlog ${c.name} (${set.group})`,
          command: process.execPath,
          args: [flowlog, ...c.args, ...common, set.dir],
          header: false,
          count: c.name === 'what-if' ? (file) => countOf(file, '"responsible":') : undefined,
        },
        {
          name: `DuckDB ${c.name} (${set.group})`,
          command: process.execPath,
          args: [duckdb, equivalent(c.name, set.from, set.iface)],
          header: c.name === 'what-if',
        },
        // The sort every replay needs, for scale.
        ...(replays
          ? [
              {
                name: `DuckDB sort (${set.group})`,
                command: process.execPath,
                args: [duckdb, sortSql(set.from, set.iface)],
                header: false,
              },
            ]
          : []),
      )
      // what-if's changed flows are the one answer both give in countable form: they must agree.
      if (c.name === 'what-if' && mine !== null && duck !== null && mine.matches !== duck.matches) {
        console.error(
          `bench:query: what-if (${set.group}) lists ${mine.matches} changed flows, its equivalent SQL ${duck.matches}`,
        )
        failed = true
      }
      if (mine === null || duck === null) {
        failed = true
        continue
      }
      const ratio = mine.wall / duck.wall
      const time = ratio <= 2 ? 'OK' : 'MISS'
      // Each turn's own ratio: how far a single run could land from the best runs' ratio.
      const turns = mine.walls.map((w, r) => w / (duck.walls[r] ?? Number.NaN))
      const memory = mine.rss < MEMORY_TARGET_KB ? 'OK' : 'MISS'
      results.push({
        command: c.name,
        files: set.group,
        flowlog: mine,
        duckdb: duck,
        sort,
        ratio,
        turns,
        time,
        memory,
      })
      console.log(
        `${`${c.name} (${set.group})`.padEnd(22)} flowlog ${mine.wall.toFixed(2).padStart(7)} s ${mb(mine.rss * 1024).padStart(9)}   ` +
          `DuckDB ${duck.wall.toFixed(2).padStart(7)} s ${mb(duck.rss * 1024).padStart(9)}   ` +
          `${ratio.toFixed(2)}x ${time}, memory ${memory}   ${(records / mine.wall / 1e6).toFixed(2)} M records/s` +
          (turns.length > 1 ? `   (turns ${turns.map((t) => `${t.toFixed(2)}x`).join(' ')})` : '') +
          (sort === null
            ? ''
            : `   (sort alone ${sort.wall.toFixed(2)} s: ${(mine.wall / sort.wall).toFixed(1)}x)`),
      )
    }
  }
  return failed ? 2 : results
}

/** Runs a tool under /usr/bin/time with its output to `file`; wall and CPU seconds, peak RSS, matches. */
function measure(tool, file) {
  const timeFile = join(OUT, 'time.txt')
  const r = spawnSync(
    '/bin/sh',
    [
      '-c',
      `exec "$0" "$@" > '${file}'`,
      TIME,
      '-o',
      timeFile,
      '-f',
      '%e %U %S %M',
      tool.command,
      ...tool.args,
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  )
  if (r.status !== 0) {
    console.error(`bench:query: ${tool.name} failed (exit ${r.status})`)
    return null
  }
  const [wall, user, sys, rss] = readFileSync(timeFile, 'utf8')
    .trim()
    .split('\n')
    .pop()
    .split(' ')
    .map(Number)
  const matches = tool.count === undefined ? countLines(file) - (tool.header ? 1 : 0) : tool.count(file)
  return { wall, cpu: user + sys, rss, matches }
}

function countLines(file) {
  return countOf(file, '\n')
}

/** How often `text` occurs in a file (what-if's JSON has one "responsible" per changed flow). */
function countOf(file, text) {
  const bytes = readFileSync(file)
  let n = 0
  for (let i = bytes.indexOf(text); i >= 0; i = bytes.indexOf(text, i + text.length)) n++
  return n
}

/**
 * Deterministic records (a fixed-seed generator), one file per minute from 2024-06-01T00:00:00Z:
 * 64 interfaces, clients in 198.18.0.0/15, about 2 % of connections to port 22 (60 % of records
 * ingress, where 22 is the destination port) and 10 % rejected, so the filter keeps about 0.12 %.
 */
async function writeText(dir, records, files) {
  let seed = 0x9e3779b9
  const random = () => {
    seed ^= seed << 13
    seed ^= seed >>> 17
    seed ^= seed << 5
    return (seed >>> 0) / 4294967296
  }
  const perFile = Math.ceil(records / files)
  const ports = [443, 443, 443, 80, 80, 53, 5432, 123, 8080, 3389]
  let written = 0
  const pending = []
  for (let f = 0; f < files && written < records; f++) {
    const windowStart = Date.UTC(2024, 5, 1) / 1000 + f * 60
    const d = new Date(windowStart * 1000)
    const two = (n) => String(n).padStart(2, '0')
    const stamp = `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}T${two(d.getUTCHours())}${two(d.getUTCMinutes())}Z`
    const folder = join(
      dir,
      'AWSLogs',
      '123456789012',
      'vpcflowlogs',
      'us-east-1',
      '2024',
      '06',
      two(d.getUTCDate()),
    )
    mkdirSync(folder, { recursive: true })
    const path = join(
      folder,
      `123456789012_vpcflowlogs_us-east-1_fl-0bench0_${stamp}_${((f * 2654435761) >>> 0).toString(16).padStart(8, '0')}.log.gz`,
    )
    const n = Math.min(perFile, records - written)
    const lines = [FIELDS]
    for (let i = 0; i < n; i++) {
      const eni = Math.floor(random() * 64)
      const inside = `10.0.${eni >> 4}.${(eni & 15) + 10}`
      const outside = `198.${18 + Math.floor(random() * 2)}.${Math.floor(random() * 256)}.${Math.floor(random() * 254) + 1}`
      const ssh = random() < 0.02
      const port = ssh ? 22 : ports[Math.floor(random() * ports.length)]
      const ephemeral = 32768 + Math.floor(random() * 28000)
      const ingress = random() < 0.6
      const protocol = port === 53 || port === 123 ? 17 : 6
      const packets = 1 + Math.floor(random() * 40)
      const bytes = packets * (40 + Math.floor(random() * 1400))
      const start = windowStart + Math.floor(random() * 50)
      const end = start + Math.floor(random() * 10)
      const action = random() < 0.1 ? 'REJECT' : 'ACCEPT'
      lines.push(
        ingress
          ? `2 123456789012 eni-${(0x0a000000 + eni).toString(16)}0bench ${outside} ${inside} ${ephemeral} ${port} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} OK`
          : `2 123456789012 eni-${(0x0a000000 + eni).toString(16)}0bench ${inside} ${outside} ${port} ${ephemeral} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} OK`,
      )
    }
    written += n
    pending.push(gzipAsync(`${lines.join('\n')}\n`, { level: 6 }).then((body) => writeFileSync(path, body)))
    if (pending.length >= 4) await pending.shift()
  }
  await Promise.all(pending)
}

/** The same records as Parquet, one file per text file, with AWS's Parquet column names (underscores). */
async function writeParquet(textDir, parquetDir) {
  const { DuckDBInstance } = await import('@duckdb/node-api')
  const connection = await (await DuckDBInstance.create(':memory:')).connect()
  const files = walk(textDir).filter((f) => f.endsWith('.log.gz'))
  const columns = FIELDS.split(' ')
    .map((f) => `"${f}" AS ${f.replaceAll('-', '_')}`)
    .join(', ')
  for (const file of files) {
    const target = file.replace(textDir, parquetDir).replace(/\.log\.gz$/, '.log.parquet')
    mkdirSync(dirname(target), { recursive: true })
    await connection.run(
      `COPY (SELECT ${columns} FROM read_csv('${file}', delim = ' ', header = true)) TO '${target}' (FORMAT parquet, COMPRESSION snappy)`,
    )
  }
  connection.closeSync()
}

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })
}

function sizeOf(dir) {
  return walk(dir).reduce((sum, f) => sum + statSync(f).size, 0)
}

function mb(bytes) {
  return `${(bytes / 1e6).toFixed(1)} MB`
}

function usage(message) {
  console.error(`bench:query: ${message}\n\n${HELP}`)
  return 1
}

process.exitCode = await main()
