/**
 * Limits on what a config's YAML may cost before it is turned into values: a file too large, a
 * structure nested too deep, or aliases that expand to far more than is written (an "alias bomb":
 * nine aliases of nine aliases of … is a few lines that become hundreds of millions of values).
 * Each is an E_CONFIG problem at the line where it happens, never an internal error.
 */
import { isAlias, isCollection, isPair, isScalar, visit, type Document, type Node } from 'yaml';
import type { ParsedYaml, YamlProblem } from './yaml.js';

export const YAML_LIMITS = {
  /** A config this large is a mistake (a data file given as the config?), not a list of jobs. */
  maxBytes: 8 * 1024 * 1024,
  /** Mappings and lists nested deeper than this (a real config nests under 10). */
  maxDepth: 64,
  /** Values the document expands to, every alias counted as a copy of its anchor's whole value. */
  maxExpandedNodes: 200_000,
} as const;

/** The size problem, checked before parsing: the line where the limit is crossed. */
export function sizeProblem(text: string): YamlProblem | undefined {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= YAML_LIMITS.maxBytes) return undefined;
  const line = 1 + (text.slice(0, YAML_LIMITS.maxBytes).match(/\n/g)?.length ?? 0);
  return {
    line,
    column: 1,
    message: `the config file is ${(bytes / 1024 / 1024).toFixed(1)} MB, more than the ${YAML_LIMITS.maxBytes / 1024 / 1024} MB a config may be`,
    hint: 'keep data out of the config: point a `file` source at it instead',
  };
}

/** Depth and alias expansion; at most one problem of each. */
export function structureProblems(parsed: ParsedYaml, depthOffset = 0): YamlProblem[] {
  const { doc, lineCounter } = parsed;
  const problems: YamlProblem[] = [];
  const at = (node: Node) => {
    const p = lineCounter.linePos(node.range?.[0] ?? 0);
    return { line: p.line, column: p.col };
  };
  const sizes = new Map<Node, number>();
  let running = 0;
  let deep = false;
  let bomb = false;

  const walk = (node: unknown, depth: number): void => {
    if (node === null || node === undefined || bomb) return;
    if (isAlias(node)) {
      running += expandedSize(doc, node.resolve(doc) as Node | undefined, sizes, new Set());
      if (running > YAML_LIMITS.maxExpandedNodes) {
        bomb = true;
        problems.push({
          ...at(node),
          message: `aliases expand the config to more than ${YAML_LIMITS.maxExpandedNodes.toLocaleString('en-US')} values (*${node.source} here)`,
          hint: 'each *alias copies the whole value of its &anchor; aliases of aliases multiply. Write the values out or use fewer aliases',
        });
      }
      return;
    }
    running++;
    if (!isCollection(node)) return;
    if (depth > YAML_LIMITS.maxDepth) {
      if (!deep) {
        deep = true;
        problems.push({
          ...at(node),
          message: `the YAML nests more than ${YAML_LIMITS.maxDepth} levels deep here`,
          hint: 'a config nests a few levels (jobs → job → source → options); check for runaway brackets or indentation',
        });
      }
      return;
    }
    for (const item of node.items) {
      if (isPair(item)) {
        walk(item.key, depth + 1);
        walk(item.value, depth + 1);
      } else walk(item, depth + 1);
    }
  };
  walk(doc.contents, 1 + depthOffset);
  return problems;
}

/** How many values a node becomes with its aliases expanded (memoized: linear in the document). */
function expandedSize(doc: Document.Parsed, node: Node | undefined, sizes: Map<Node, number>, inProgress: Set<Node>): number {
  if (!node) return 1;
  if (isAlias(node)) return expandedSize(doc, node.resolve(doc) as Node | undefined, sizes, inProgress);
  if (isScalar(node) || !isCollection(node)) return 1;
  const known = sizes.get(node);
  if (known !== undefined) return known;
  // An alias inside its own anchor (a cycle) is yaml's to reject; it counts once here.
  if (inProgress.has(node)) return 1;
  inProgress.add(node);
  let n = 1;
  for (const item of node.items) {
    if (isPair(item)) {
      n += expandedSize(doc, item.key as Node | undefined, sizes, inProgress);
      n += expandedSize(doc, item.value as Node | undefined, sizes, inProgress);
    } else n += expandedSize(doc, item as Node, sizes, inProgress);
    // Past the limit the exact number does not matter (and could overflow into Infinity).
    if (n > YAML_LIMITS.maxExpandedNodes) break;
  }
  inProgress.delete(node);
  sizes.set(node, n);
  return n;
}

/** Where the first *alias is (for errors about aliases as a whole). */
export function firstAlias(parsed: ParsedYaml): { line: number; column: number } {
  let offset = 0;
  visit(parsed.doc, {
    Alias(_key, node) {
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  const p = parsed.lineCounter.linePos(offset);
  return { line: p.line, column: p.col };
}
