// Property values as set-properties shows them in the summary: values of keys that look secret,
// and strings holding credentials, are never shown, at any depth.
import type { JsonMap } from '../core/types.js'
import { MAX_DEPTH } from './property-values.js'

/** Whole words (after splitting camelCase, snake_case, kebab-case, digits) that mark a secret. */
const SECRET_WORDS = new Set(
  (
    'key keys pw pwd pass passwd password passwords passphrase passcode secret secrets token ' +
    'tokens credential credentials cred creds auth authn authz authorization oauth cert certs ' +
    'certificate certificates private privkey session sessions cookie cookies signature sig dsn ' +
    'jwt bearer otp totp mfa pin salt keytab pem pfx jks keystore hmac sas'
  ).split(' ')
)
/** Parts that mark a secret wherever they are (the key's words joined: api_key is "apikey"). */
const SECRET_PARTS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'credential',
  'apikey',
  'accesskey',
  'privatekey',
  'connectionstring',
  'connstr'
]
/** A word that ends in "key" is a secret only after one of these: not monkey, turkey, hockey. */
const KEY_COMPOUND =
  /^(api|access|secret|private|priv|ssh|signing|sign|encryption|enc|master|client|app|service|auth|session|gpg|pgp|aes|rsa|hmac|licen[cs]e|account|storage|shared|sas|subscription|deploy|root|consumer)keys?$/

/** The words of a key: "apiKey" → api, key; "DB_PASSWORD2" → db, password, 2. */
export const keyWords = (key: string): string[] =>
  key
    .replace(/([a-z\d])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z\d]+|(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])/)
    .filter(Boolean)

/** Whether a key's name says its value is a secret (password, api_key, authToken, …). */
export function secretLooking(key: string): boolean {
  const words = keyWords(key)
  const joined = words.join('')
  return (
    words.some(w => SECRET_WORDS.has(w) || KEY_COMPOUND.test(w)) ||
    SECRET_PARTS.some(p => joined.includes(p))
  )
}

/** Text that holds a credential whatever its key: a URL with user:password@, a password=… pair. */
const holdsCredential = (s: string): boolean =>
  /[a-z][\w+.-]*:\/\/[^\s/@:]*:[^\s/@]*@/i.test(s) || /\b(password|passwd|pwd)\s*[=:]/i.test(s)

export const HIDDEN = '***'

/** A value with what looks secret in it replaced by "***" (keys, credential strings, nested). */
function redacted(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return holdsCredential(v) ? HIDDEN : v
  if (typeof v !== 'object' || v === null) return v
  if (depth > MAX_DEPTH) return '…'
  if (Array.isArray(v)) return v.map(x => redacted(x, depth + 1))
  const out: JsonMap = {}
  for (const [k, x] of Object.entries(v)) {
    const shown = secretLooking(k) ? HIDDEN : redacted(x, depth + 1)
    Object.defineProperty(out, k, {
      value: shown,
      enumerable: true,
      writable: true,
      configurable: true
    })
  }
  return out
}

/** A property's value as the summary shows it (JSON), "***" for a secret-looking key. */
export function shownValue(key: string, v: unknown): string {
  if (secretLooking(key)) return HIDDEN
  const shown = redacted(v)
  return shown === HIDDEN ? HIDDEN : JSON.stringify(shown)
}
