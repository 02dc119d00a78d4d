// A drawn tree: each node has a label line, body lines under it, and children.
export interface TreeNode {
  label: string;
  body?: string[];
  children?: TreeNode[];
}

export interface TreeStyle {
  /** box drawing (default) or ASCII */
  ascii?: boolean;
}

export function renderTree(roots: TreeNode[], style: TreeStyle = {}): string[] {
  const [tee, elbow, pipe] = style.ascii ? ['|-- ', '`-- ', '|   '] : ['├── ', '└── ', '│   '];
  const out: string[] = [];
  const walk = (n: TreeNode, prefix: string, childPrefix: string) => {
    out.push(prefix + n.label);
    const kids = n.children ?? [];
    for (const b of n.body ?? []) out.push((childPrefix + (kids.length ? pipe.replace(/ +$/, '') + '  ' : '    ') + b).replace(/\s+$/, ''));
    kids.forEach((k, i) => {
      const last = i === kids.length - 1;
      walk(k, childPrefix + (last ? elbow : tee), childPrefix + (last ? '    ' : pipe));
    });
  };
  for (const r of roots) walk(r, '', '');
  return out;
}
