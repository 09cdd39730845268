/** A small element builder: h('button', { type: 'button', onclick }, 'Apply'). */
type Child = Node | string | number | null | undefined | false
type Props = Record<string, unknown>

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value as EventListener)
    } else if (key === 'class') el.className = String(value)
    else if (key === 'dataset') Object.assign(el.dataset, value)
    else if (value === true) el.setAttribute(key, '')
    else el.setAttribute(key, String(value))
  }
  append(el, children)
  return el
}

export function append(el: Element, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    el.append(child instanceof Node ? child : String(child))
  }
}

let ids = 0
/** A unique id for label/for pairs. */
export const uid = (prefix: string) => `${prefix}-${++ids}`

/** A labelled control: <div class="field"><label for=…>text</label>control</div>. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLDivElement {
  if (control.id === '') control.id = uid('f')
  const hintEl = hint === undefined ? null : h('small', { id: `${control.id}-hint`, class: 'hint' }, hint)
  if (hintEl !== null) control.setAttribute('aria-describedby', hintEl.id)
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hintEl)
}

export function select(options: readonly (string | [string, string])[], value = ''): HTMLSelectElement {
  const el = h('select')
  for (const o of options) {
    const [v, text] = typeof o === 'string' ? [o, o] : o
    el.append(h('option', { value: v, selected: v === value }, text))
  }
  return el
}

/** A message area screen readers announce. */
export function status(): HTMLParagraphElement {
  return h('p', { class: 'status', role: 'status', 'aria-live': 'polite' })
}

export function showError(el: HTMLElement, error: unknown): void {
  el.className = 'status error'
  el.setAttribute('role', 'alert')
  el.textContent = error instanceof Error ? error.message : String(error)
}

export function showOk(el: HTMLElement, text: string): void {
  el.className = 'status ok'
  el.setAttribute('role', 'status')
  el.textContent = text
}

/** A table from rows; cells are text (never HTML). */
export function table(
  caption: string,
  columns: readonly string[],
  rows: readonly (readonly unknown[])[],
): HTMLTableElement {
  return h(
    'table',
    {},
    h('caption', {}, caption),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          {},
          r.map((v) => h('td', {}, v === null || v === undefined ? '-' : (v as Child))),
        ),
      ),
    ),
  )
}

export function utc(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '-'
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z')
}

export const fmt = (n: number) => n.toLocaleString('en-US')
