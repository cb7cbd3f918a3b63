// Which proposed shell commands may run without asking, which must be asked about, and which never
// run. Pure: no process is started here. A command is parsed into words the way a POSIX shell splits
// them; allow and deny entries match a prefix of those words (so "npm test" allows "npm test -- -g x"
// but not "npm testx" or "npm run test"). Deny wins over allow. Anything the shell would do beyond
// running one program with literal words (a second command, a pipe, a redirection, a substitution,
// a nested shell) is "compound": it is never allowed by a simple entry, only by an allow entry that
// spells out the same compound command, since a prefix of the first program says nothing about the
// rest. The lists are a convenience for the user, not a sandbox: the approval is the safety.
import type { Role, RunConfig } from '../../shared/model';
import { DEFAULT_COMMAND_ROLES, type RoleCommandPolicy } from '../../shared/runConfig';

export type { RoleCommandPolicy } from '../../shared/runConfig';

export interface CommandPolicy {
  /** Entries that run without asking (prefix of the parsed words). */
  allow: readonly string[];
  /** Entries that never run, not even when the user would approve (prefix of the words of any part). */
  deny: readonly string[];
  /** Per role; a role not listed is `never`. */
  roles: Partial<Record<Role, RoleCommandPolicy>>;
}

/** The policy a run's config says: its roles over the defaults (implementer, tester, fixer, deployer ask). */
export function commandPolicyOf(config: Pick<RunConfig, 'commands'>): CommandPolicy {
  return { allow: config.commands.allow, deny: config.commands.deny, roles: { ...DEFAULT_COMMAND_ROLES, ...config.commands.roles } };
}

/** What makes a command more than one program with literal words. */
export type CompoundFeature =
  | 'sequence' // ; or a newline
  | 'and-or' // && ||
  | 'pipe' // | |&
  | 'background' // &
  | 'redirection' // > >> < << <> >& <& &> >|
  | 'substitution' // $( ) and backticks, <( ) >( )
  | 'subshell' // ( ) { }
  | 'nested-shell'; // sh -c, bash -c, eval

export interface ParsedCommand {
  /** Each program's words, quotes removed; one entry unless compound. */
  segments: string[][];
  /** Every word (`w:…`) and operator (`o:…`) in order, for matching compound allow entries: a quoted ";" is a word, not an operator. */
  tokens: string[];
  features: CompoundFeature[];
  /** Set when the text cannot be split (an unclosed quote): it is then asked about, never allowed by a rule. */
  error?: string;
}

export type PolicyOutcome = 'allow' | 'deny' | 'ask';

export interface PolicyVerdict {
  outcome: PolicyOutcome;
  /** The setting entry that decided, e.g. `commands.deny: "rm"`; absent when no rule matched. */
  rule?: string;
  /** One sentence for the user and the agent. */
  reason: string;
}

const OPERATORS = ['&&', '||', '|&', ';;', '>>', '<<', '<>', '>&', '<&', '&>', '>|', ';', '|', '&', '>', '<', '(', ')', '\n'] as const;

function featureOf(operator: string): CompoundFeature {
  switch (operator) {
    case ';':
    case ';;':
    case '\n':
      return 'sequence';
    case '&&':
    case '||':
      return 'and-or';
    case '|':
    case '|&':
      return 'pipe';
    case '&':
      return 'background';
    case '(':
    case ')':
      return 'subshell';
    default:
      return 'redirection';
  }
}

const SEPARATORS = new Set(['&&', '||', '|&', ';;', ';', '|', '&', '\n', '(', ')']);

/** Splits a command line into words and operators the way sh does, without expanding anything. */
export function parseCommand(command: string): ParsedCommand {
  const tokens: string[] = [];
  const features = new Set<CompoundFeature>();
  const segments: string[][] = [[]];
  let word = '';
  let inWord = false;
  let error: string | undefined;

  const endWord = (): void => {
    if (!inWord) return;
    tokens.push(`w:${word}`);
    segments[segments.length - 1].push(word);
    word = '';
    inWord = false;
  };
  const operator = (op: string): void => {
    endWord();
    tokens.push(`o:${op}`);
    features.add(featureOf(op));
    if (SEPARATORS.has(op)) {
      if (segments[segments.length - 1].length > 0) segments.push([]);
    }
  };

  let i = 0;
  while (i < command.length) {
    const c = command[i];
    if (c === '\\') {
      if (i + 1 < command.length && command[i + 1] === '\n') {
        i += 2; // a line continuation
        continue;
      }
      word += command[i + 1] ?? '';
      inWord = true;
      i += 2;
      continue;
    }
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) {
        error = 'a single quote is not closed';
        break;
      }
      word += command.slice(i + 1, end);
      inWord = true;
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i += 1;
      let closed = false;
      while (i < command.length) {
        const d = command[i];
        if (d === '"') {
          closed = true;
          i += 1;
          break;
        }
        if (d === '\\' && i + 1 < command.length && '$`"\\\n'.includes(command[i + 1])) {
          if (command[i + 1] !== '\n') word += command[i + 1];
          i += 2;
          continue;
        }
        if (d === '`' || (d === '$' && command[i + 1] === '(')) features.add('substitution');
        word += d;
        i += 1;
      }
      if (!closed) {
        error = 'a double quote is not closed';
        break;
      }
      inWord = true;
      continue;
    }
    if (c === '`' || (c === '$' && command[i + 1] === '(')) {
      // The substitution stays one word (its inner command is checked against the deny list on its own).
      features.add('substitution');
      const end = c === '`' ? command.indexOf('`', i + 1) : closingParen(command, i + 1);
      if (end < 0) {
        error = c === '`' ? 'a backtick is not closed' : 'a $( is not closed';
        break;
      }
      word += command.slice(i, end + 1);
      inWord = true;
      i = end + 1;
      continue;
    }
    if ((c === '<' || c === '>') && command[i + 1] === '(') {
      features.add('substitution');
      endWord();
      tokens.push(`o:${c}(`);
      i += 2;
      continue;
    }
    if (c === '#' && !inWord) {
      // A comment runs to the end of the line.
      const end = command.indexOf('\n', i);
      i = end < 0 ? command.length : end;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      endWord();
      i += 1;
      continue;
    }
    if ((c === '{' || c === '}') && !inWord && (i + 1 >= command.length || /[\s;]/.test(command[i + 1]))) {
      // A group `{ a; b; }`: `{` and `}` are reserved words only when they stand alone.
      features.add('subshell');
      endWord();
      tokens.push(`o:${c}`);
      i += 1;
      continue;
    }
    const op = OPERATORS.find((candidate) => command.startsWith(candidate, i));
    if (op !== undefined) {
      // `2>` and `2>&1`: the digits belong to the redirection, not to a word.
      if (/^\d+$/.test(word) && inWord && (op.startsWith('>') || op.startsWith('<'))) {
        word = '';
        inWord = false;
      }
      operator(op);
      i += op.length;
      continue;
    }
    word += c;
    inWord = true;
    i += 1;
  }
  endWord();
  const nonEmpty = segments.filter((segment) => segment.length > 0);
  for (const segment of nonEmpty) if (isNestedShell(segment)) features.add('nested-shell');
  const parsed: ParsedCommand = { segments: nonEmpty, tokens, features: [...features] };
  if (error !== undefined) parsed.error = error;
  return parsed;
}

/** Index of the `)` closing the `(` at `open`, quotes respected; -1 when there is none. */
function closingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i += 1) {
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) return -1;
      i = end;
    } else if (c === '\\') i += 1;
    else if (c === '(') depth += 1;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'fish', 'pwsh', 'powershell', 'cmd', 'cmd.exe']);

function isNestedShell(words: readonly string[]): boolean {
  const program = baseName(commandWords(words)[0] ?? '');
  if (program === 'eval' || program === 'source' || program === '.') return true;
  return SHELLS.has(program) && words.some((word) => /^-\w*c\w*$/.test(word) || /^\/c$/i.test(word) || word === '-Command');
}

function baseName(program: string): string {
  return program.slice(program.lastIndexOf('/') + 1);
}

// Programs that run the rest of their words as a command; a deny entry sees through them.
const WRAPPERS = new Set(['sudo', 'env', 'command', 'exec', 'nohup', 'nice', 'time', 'builtin', 'doas', 'xargs', 'npx', 'timeout']);

/** The words from the program on: leading `NAME=value` assignments dropped. */
function commandWords(words: readonly string[]): readonly string[] {
  let start = 0;
  while (start < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[start])) start += 1;
  return words.slice(start);
}

/** Every way the words can be read as a program with arguments: as written, and past wrappers and their options. */
function denyCandidates(words: readonly string[]): (readonly string[])[] {
  const candidates: (readonly string[])[] = [words];
  let rest = commandWords(words);
  candidates.push(rest);
  while (rest.length > 0 && WRAPPERS.has(baseName(rest[0]))) {
    rest = rest.slice(1);
    // Options and the arguments wrappers take (timeout's duration, env's assignments).
    while (rest.length > 0 && (rest[0].startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(rest[0]) || /^\d+[smhd]?$/.test(rest[0]))) rest = rest.slice(1);
    candidates.push(rest);
  }
  if (rest.length > 0) candidates.push([baseName(rest[0]), ...rest.slice(1)]);
  return candidates;
}

function startsWith(words: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length > 0 && prefix.length <= words.length && prefix.every((word, index) => words[index] === word);
}

function sameWords(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((word, index) => word === b[index]);
}

/** Checks an allow or deny entry; an unusable one is a configuration error, said up front. */
export function checkPolicyEntry(entry: string, list: 'allow' | 'deny'): string | undefined {
  const parsed = parseCommand(entry);
  if (parsed.error) return `"${entry}": ${parsed.error}`;
  if (parsed.tokens.length === 0) return `"${entry}" names no command`;
  if (list === 'deny' && parsed.features.length > 0) return `"${entry}": a deny entry is one program and its first words (each part of a compound command is checked against it)`;
  return undefined;
}

/** Every program a command would run, nested `sh -c "…"` strings included. */
function programsOf(parsed: ParsedCommand, depth = 0): (readonly string[])[] {
  const programs: (readonly string[])[] = [];
  for (const segment of parsed.segments) {
    programs.push(segment);
    const words = commandWords(segment);
    if (depth < 3 && isNestedShell(segment)) {
      for (const word of words.slice(1)) if (!word.startsWith('-')) programs.push(...programsOf(parseCommand(word), depth + 1));
    }
    // A substitution runs a command too: look inside `$(…)` and backticks of each word.
    if (depth < 3) {
      for (const word of segment) {
        for (const inner of substitutionsOf(word)) programs.push(...programsOf(parseCommand(inner), depth + 1));
      }
    }
  }
  return programs;
}

function substitutionsOf(word: string): string[] {
  const found: string[] = [];
  for (let i = 0; i < word.length; i += 1) {
    if (word[i] === '$' && word[i + 1] === '(') {
      const end = closingParen(word, i + 1);
      if (end < 0) break;
      found.push(word.slice(i + 2, end));
      i = end;
    } else if (word[i] === '`') {
      const end = word.indexOf('`', i + 1);
      if (end < 0) break;
      found.push(word.slice(i + 1, end));
      i = end;
    }
  }
  return found;
}

const FEATURE_WORDING: Record<CompoundFeature, string> = {
  sequence: 'runs several commands in a row',
  'and-or': 'chains commands with && or ||',
  pipe: 'pipes into another command',
  background: 'runs something in the background',
  redirection: 'redirects input or output',
  substitution: 'substitutes the output of another command',
  subshell: 'groups commands',
  'nested-shell': 'runs a shell on a string',
};

/** The deny list alone: a refusal naming the entry, or undefined. Looks into every part, nested shells and substitutions included. */
export function evaluateDenyList(command: string, policy: Pick<CommandPolicy, 'deny'>): PolicyVerdict | undefined {
  const parsed = parseCommand(command);
  const programs = programsOf(parsed);
  for (const entry of policy.deny) {
    const prefix = parseCommand(entry).segments[0];
    if (!prefix) continue;
    if (programs.some((program) => denyCandidates(program).some((words) => startsWith(words, prefix)))) {
      return { outcome: 'deny', rule: `commands.deny: "${entry}"`, reason: `The deny list refuses it ("${entry}").` };
    }
  }
  // Text the parser cannot split might hide a denied program: compare the raw text too.
  if (parsed.error) {
    const denied = policy.deny.find((entry) => command.includes(entry.trim()));
    if (denied !== undefined) return { outcome: 'deny', rule: `commands.deny: "${denied}"`, reason: `The deny list refuses it ("${denied}").` };
  }
  return undefined;
}

/** Decides a command for a role: deny list, then the role, then the allow list; compound commands are asked about. */
export function evaluateCommand(command: string, role: Role, policy: CommandPolicy): PolicyVerdict {
  const rolePolicy = policy.roles[role] ?? 'never';
  if (rolePolicy === 'never') {
    return { outcome: 'deny', rule: `commands.roles.${role}: never`, reason: `The ${role} role may not run commands (setting commands.roles).` };
  }
  if (command.trim() === '') return { outcome: 'deny', reason: 'The command is empty.' };
  const denied = evaluateDenyList(command, policy);
  if (denied) return denied;
  const parsed = parseCommand(command);
  const notListed = (why: string): PolicyVerdict =>
    rolePolicy === 'allowListed'
      ? { outcome: 'deny', rule: `commands.roles.${role}: allowListed`, reason: `${why}; the ${role} role may only run commands on the allow list (commands.allow).` }
      : { outcome: 'ask', reason: `${why}.` };

  if (parsed.error) return notListed(`It cannot be read as a shell command (${parsed.error})`);
  if (parsed.features.length > 0) {
    for (const entry of policy.allow) {
      const entryParsed = parseCommand(entry);
      if (entryParsed.error || entryParsed.features.length === 0) continue;
      // The whole command, not a prefix: "a && b" says nothing about "a && b; c".
      if (sameWords(parsed.tokens, entryParsed.tokens)) return { outcome: 'allow', rule: `commands.allow: "${entry}"`, reason: `The allow list names this compound command ("${entry}").` };
    }
    return notListed(`It ${parsed.features.map((feature) => FEATURE_WORDING[feature]).join(', ')}, which no allow entry spells out`);
  }
  const words = parsed.segments[0] ?? [];
  for (const entry of policy.allow) {
    const entryParsed = parseCommand(entry);
    if (entryParsed.error || entryParsed.features.length > 0 || entryParsed.segments.length !== 1) continue;
    if (startsWith(words, entryParsed.segments[0])) return { outcome: 'allow', rule: `commands.allow: "${entry}"`, reason: `The allow list lets it run ("${entry}").` };
  }
  return notListed('No allow entry matches it');
}

/** Whether a role is offered the run_command tool at all. */
export function roleMayRunCommands(role: Role, policy: CommandPolicy): boolean {
  return (policy.roles[role] ?? 'never') !== 'never';
}
