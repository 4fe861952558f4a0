// nsfd ls [--json] [--tree] [-t TYPE] [-n]
import { api } from './api';
import { checkType, parse } from './args';
import { printForest, printTable, row } from './ls-table';
import { jsonReplacer, out } from './output';

export async function cmdLs(args: readonly string[]): Promise<number> {
  const { values } = parse(args, {
    type: { type: 'string', short: 't' },
    json: { type: 'boolean', short: 'J' },
    tree: { type: 'boolean', short: 'T' },
    noheadings: { type: 'boolean', short: 'n' },
  });
  const type = checkType(values.type);
  const { listNamespaces, buildNamespaceTree } = api();
  const opts = type === undefined ? {} : { type };
  if (values.tree) {
    const tree = buildNamespaceTree(await listNamespaces(), opts);
    if (values.json) {
      out(JSON.stringify(tree, jsonReplacer, 2));
      return 0;
    }
    printForest('User namespaces and the namespaces they own:', tree.owner, !values.noheadings);
    out();
    printForest('Pid and user namespaces by parent:', tree.parent, !values.noheadings);
    return 0;
  }
  const list = await listNamespaces(opts);
  if (values.json) {
    out(JSON.stringify({ namespaces: list }, jsonReplacer, 2));
    return 0;
  }
  printTable(list.map(row), { headings: !values.noheadings });
  return 0;
}
