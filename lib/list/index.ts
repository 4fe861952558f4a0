// Namespace discovery: listNamespaces() (walk/) and its trees (tree.ts).
export { listNamespaces } from './walk';
export { buildNamespaceTree, namespaceTree } from './tree';
export type {
  ListOptions,
  NamespaceInfo,
  NamespaceTree,
  NamespaceTreeNode,
  NsForeignMount,
  NsHolder,
  NsSource,
  NsThread,
} from './types';
