// Networks for tests: rtnetlink on any network namespace, and a topology helper.
export { Rtnetlink } from './rtnetlink';
export type { Address, AddressOptions, Link, LinkChange, MacvlanMode, Route, RouteSpec, VethOptions } from './rtnetlink';
export { Network, NETWORK_RUN_DIR, cleanStaleNetworks } from './network';
export type { LinkEnd, LinkOptions, NetNode, NetworkOptions } from './network';
export type { IpFamily } from './ip';
