// Moved to lib/inside/. This re-export only keeps `from './inns'` imports
// of modules being redesigned elsewhere (spawn, container) compiling until
// the merge points them at './inside'; delete it then.
export * from './inside';
