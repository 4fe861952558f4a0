// Checking the options of listNamespaces(), namespaceTree() and buildNamespaceTree().
import { invalidArg, checkOptionKeys, optionKeys } from '../core/errors';
import { checkNsType } from '../core/ns-types';
import type { ListOptions } from './types';

/** The option names the checks below know: any other is a typo (checkOptionKeys). */
const LIST_OPTION_KEYS = optionKeys<ListOptions>({ type: true });

export function checkOptions(options: unknown): ListOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') throw invalidArg('options', 'an object', options);
  const o = options as Record<string, unknown>;
  if (o.tree !== undefined) throw invalidArg('options.tree', 'absent (use namespaceTree() for the tree)', o.tree);
  checkOptionKeys(options, LIST_OPTION_KEYS);
  const out: ListOptions = {};
  if (o.type !== undefined) out.type = checkNsType(o.type, 'options.type');
  return out;
}
