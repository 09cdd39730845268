import { loadSession, saveSession, settings } from '../api'
import { field, h, showError, status } from '../dom'

/**
 * The login: the API token (NHN's X-Auth-Token; the analysis endpoints take it too when the server
 * asks for one) and, to change security groups or create AWS-style flow logs, an API key pair.
 * They stay in this tab (sessionStorage) and go out only in request headers.
 */
export async function loginPage(done: () => void): Promise<HTMLElement> {
  const s = await settings()
  const current = loadSession()
  const token = h('input', { type: 'password', autocomplete: 'off', value: current?.token ?? '' })
  const accessKeyId = h('input', {
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    value: current?.accessKeyId ?? '',
  })
  const secret = h('input', { type: 'password', autocomplete: 'off', value: current?.secretAccessKey ?? '' })
  const message = status()
  const form = h(
    'form',
    { class: 'login', 'aria-label': 'Log in' },
    field('API token (X-Auth-Token)', token, 'the token of flowlog run --api-token-file'),
    field(
      'Access key id',
      accessKeyId,
      'a key pair of --api-credentials, for security groups and AWS-style flow logs',
    ),
    field('Secret access key', secret),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'submit' }, 'Log in'),
      h('button', { type: 'button', id: 'logout' }, 'Log out'),
    ),
    message,
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    if (token.value === '' && accessKeyId.value === '') {
      showError(message, 'give the API token, a key pair, or both')
      return
    }
    if ((accessKeyId.value === '') !== (secret.value === '')) {
      showError(message, 'give both the access key id and the secret access key')
      return
    }
    saveSession({
      token: token.value.trim(),
      accessKeyId: accessKeyId.value.trim(),
      secretAccessKey: secret.value,
    })
    done()
  })
  form.querySelector('#logout')?.addEventListener('click', () => {
    saveSession(null)
    token.value = accessKeyId.value = secret.value = ''
    done()
  })
  return h(
    'section',
    {},
    h('h1', {}, 'Log in'),
    h(
      'p',
      {},
      s.management
        ? 'Managing flow logs and security groups needs a login. Nothing changes without one.'
        : 'This console only reads flow-log files.',
      s.analysisNeedsToken ? ' This server asks for the API token before it shows any traffic.' : '',
    ),
    form,
  )
}
