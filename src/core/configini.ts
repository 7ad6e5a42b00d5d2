// config.ini as VDK reads it (Python's configparser): `[section]` headers, `key = value` or
// `key: value`, keys case-insensitive, whole-line `#` / `;` comments (no inline comments),
// indented continuation lines, and duplicate sections or keys refused. Written here because no
// JavaScript ini library follows configparser and keeps line numbers, which annotations need.
// A problem says where (line, column), never what the line holds: the file may come from a pull
// request, and its text is not repeated into the log.

export interface IniValue {
  value: string
  line: number
}

export interface IniProblem {
  line: number
  message: string
}

export interface IniFile {
  /** section → key (lowercase) → value with its line */
  sections: Map<string, Map<string, IniValue>>
  problems: IniProblem[]
}

export function parseIni(text: string): IniFile {
  const sections = new Map<string, Map<string, IniValue>>()
  const sectionLines = new Map<string, number>()
  const problems: IniProblem[] = []
  let current: Map<string, IniValue> | undefined
  let last: IniValue | undefined
  let lastIndent = 0
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  lines.forEach((raw, i) => {
    const line = i + 1
    const trimmed = raw.trim()
    const indent = raw.length - raw.trimStart().length
    if (!trimmed || trimmed.startsWith('#') || trimmed.startsWith(';')) {
      if (!trimmed) last = undefined
      return
    }
    if (last && indent > lastIndent) {
      last.value = last.value ? `${last.value}\n${trimmed}` : trimmed
      return
    }
    const header = /^\[(.+)\]$/.exec(trimmed)
    if (header) {
      const name = header[1].trim()
      const first = sectionLines.get(name)
      if (first !== undefined)
        problems.push({
          line,
          message: `the section of line ${first} appears again: merge the two`
        })
      else sectionLines.set(name, line)
      current = sections.get(name) ?? new Map()
      sections.set(name, current)
      last = undefined
      return
    }
    const at = trimmed.search(/[=:]/)
    if (at <= 0) {
      problems.push({
        line,
        message: `column ${indent + 1}: expected 'key = value', '[section]' or a comment`
      })
      return
    }
    if (!current) {
      problems.push({
        line,
        message: "a key before any [section]: config.ini starts with a section such as '[owner]'"
      })
      return
    }
    const key = trimmed.slice(0, at).trim().toLowerCase()
    const twice = current.get(key)
    if (twice)
      problems.push({
        line,
        message: `the key of line ${twice.line} is set again in its section`
      })
    last = { value: trimmed.slice(at + 1).trim(), line }
    lastIndent = indent
    current.set(key, last)
  })
  return { sections, problems }
}

export const iniGet = (ini: IniFile, section: string, key: string): IniValue | undefined =>
  ini.sections.get(section)?.get(key.toLowerCase())
