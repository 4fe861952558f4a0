// The library, as the CLI sees it: the public API (lib/index.ts) only,
// loaded on first use. --help and usage errors then need neither the addon
// nor the time it takes to load.
import type * as Api from '../index';

let lib: typeof Api | undefined;

export function api(): typeof Api {
  lib ??= require('../index') as typeof Api;
  return lib;
}
