// Containers: a pidfd on an init plus its namespaces (container.ts), made
// (options, create, init), found and adopted (discover), kept (persist) and
// killed (kill).
export { Container } from './container';
export { BundleConfigError } from './bundle';
export type { BundleOptions } from './bundle';
export { DEFAULT_INIT } from './init';
export { DEFAULT_UNSHARE } from './options';
export type { ContainerCreateOptions } from './options';
export type { ContainerInfo } from './discover';
