// The public API of nsfd.
export { NsError, UnsupportedError } from './errors';
export type { NsErrorDetails } from './errors';
export { OwnedFd } from './owned-fd';
export { Pidfd } from './pidfd';
export type { PidfdOpenOptions, ExitStatus, ProcessInfo, IdSet, WaitOptions } from './pidfd';
export { Namespace } from './namespace';
export { attach, AttachScope, ATTACHABLE } from './attach';
export type { AttachTarget } from './attach';
export { translatePid } from './translate';
export type { TranslateOptions, PidNsRef } from './translate';
export { features } from './features';
export type { Feature, FeatureName, Features } from './features';
export { NS_TYPES, CLONE_FLAG } from './types';
export type { NsType } from './types';
export { listNamespaces, namespaceTree, buildNamespaceTree } from './list';
export type { NamespaceInfo, NamespaceTree, NamespaceTreeNode, NsSource, NsHolder, NsThread, NsForeignMount, ListOptions } from './list';
export { socketIn, socketNamespace, openIn, readFileIn, writeFileIn, mkdirIn, mountIn, loopbackUp, openFlags } from './inns';
export type { InTarget, PidfdHolder, SocketFamily, SocketType, SocketBind, SocketInOptions, OpenFlags, ReadFileInOptions, WriteFileInOptions, MkdirInOptions, MountOptions } from './inns';
