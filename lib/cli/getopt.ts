// Command lines the way util-linux reads them (getopt_long): bundled short
// options (-an), values attached or separate (-t1 / -t 1, --type=net /
// --type net), and optional values that must be attached (-n/run/netns/x,
// --net=/run/netns/x), which node:util parseArgs cannot express. Commands
// that run a command stop at its first word (as getopt with '+').
import { UsageError } from './args';

export type ArgKind = 'none' | 'required' | 'optional';

export interface OptSpec {
  /** The long name, without '--'. */
  long: string;
  short?: string;
  arg: ArgKind;
  /** The short form's, when it differs (unshare's -n takes no FILE, --net[=FILE] does). */
  shortArg?: ArgKind;
}

export interface Parsed {
  /** Options in command-line order; value undefined for none, or an optional one not given. */
  opts: { name: string; value: string | undefined }[];
  positionals: string[];
  /** Index in `args` of the first positional when stopping at it (args.length when none). */
  rest: number;
}

/**
 * Parses `args` against `specs`. With `stopAtPositional`, everything from the
 * first non-option (or after '--') is positional, the command to run.
 */
export function getopt(args: readonly string[], specs: readonly OptSpec[], stopAtPositional: boolean): Parsed {
  const byLong = new Map(specs.map((s) => [s.long, s]));
  const byShort = new Map(specs.filter((s) => s.short !== undefined).map((s) => [s.short, s]));
  const opts: Parsed['opts'] = [];
  const positionals: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') {
      positionals.push(...args.slice(i + 1));
      return { opts, positionals, rest: stopAtPositional ? i + 1 : args.length };
    }
    if (!a.startsWith('-') || a === '-') {
      if (stopAtPositional) {
        positionals.push(...args.slice(i));
        return { opts, positionals, rest: i };
      }
      positionals.push(a);
      continue;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const spec = byLong.get(name) ?? uniquePrefix(name, specs);
      if (spec.arg === 'none') {
        if (eq >= 0) throw new UsageError(`option '--${spec.long}' doesn't allow an argument`);
        opts.push({ name: spec.long, value: undefined });
      } else if (eq >= 0) {
        opts.push({ name: spec.long, value: a.slice(eq + 1) });
      } else if (spec.arg === 'optional') {
        opts.push({ name: spec.long, value: undefined });
      } else {
        if (i + 1 >= args.length) throw new UsageError(`option '--${spec.long}' requires an argument`);
        opts.push({ name: spec.long, value: args[++i] });
      }
      continue;
    }
    for (let k = 1; k < a.length; k++) {
      const c = a.charAt(k);
      const spec = byShort.get(c);
      if (spec === undefined) throw new UsageError(`invalid option -- '${c}'`);
      const kind = spec.shortArg ?? spec.arg;
      if (kind === 'none') {
        opts.push({ name: spec.long, value: undefined });
        continue;
      }
      const attached = a.slice(k + 1);
      if (attached !== '' || kind === 'optional') {
        opts.push({ name: spec.long, value: attached === '' ? undefined : attached });
      } else {
        if (i + 1 >= args.length) throw new UsageError(`option requires an argument -- '${c}'`);
        opts.push({ name: spec.long, value: args[++i] });
      }
      break;
    }
  }
  return { opts, positionals, rest: args.length };
}

/** getopt_long accepts an unambiguous prefix of a long option. */
function uniquePrefix(name: string, specs: readonly OptSpec[]): OptSpec {
  const hits = name === '' ? [] : specs.filter((s) => s.long.startsWith(name));
  if (hits.length === 1 && hits[0] !== undefined) return hits[0];
  throw new UsageError(hits.length > 1 ? `option '--${name}' is ambiguous` : `unrecognized option '--${name}'`);
}

/** nsfd's own options in `args` (those before the command), for main's --help check; none when they do not parse (the command reports why). */
export function ownArgsOf(args: readonly string[], specs: readonly OptSpec[]): readonly string[] {
  try {
    return args.slice(0, getopt(args, specs, true).rest);
  } catch {
    return [];
  }
}
