// The shape of a DAG: which task waits for which. Pure and immutable, built from names and
// dependency lists, so the validator (dag-spec.ts), the engine and the evaluator
// (dag-evaluation.ts) all ask the same questions the same way: roots, dependencies,
// dependents (direct and transitive), a topological order, and a cycle if there is one.

export interface DagNode {
  name: string;
  dependsOn: readonly string[];
}

export class DagGraph {
  private readonly order: readonly string[];
  private readonly deps: ReadonlyMap<string, readonly string[]>;
  private readonly children: ReadonlyMap<string, readonly string[]>;
  private topoCache: readonly string[] | undefined;

  private constructor(nodes: readonly DagNode[]) {
    this.order = nodes.map((n) => n.name);
    const deps = new Map<string, string[]>();
    const children = new Map<string, string[]>();
    for (const node of nodes) {
      deps.set(node.name, [...node.dependsOn]);
      children.set(node.name, []);
    }
    for (const node of nodes) {
      for (const dep of node.dependsOn) children.get(dep)?.push(node.name);
    }
    this.deps = deps;
    this.children = children;
  }

  /**
   * Builds a graph. Names must be unique; a dependency on a name that is not a node is kept
   * as written but has no node (dag-spec.ts refuses such files before building the engine's
   * graph, so the engine never sees one).
   */
  static of(nodes: readonly DagNode[]): DagGraph {
    const seen = new Set<string>();
    for (const node of nodes) {
      if (seen.has(node.name)) throw new Error(`duplicate task name "${node.name}"`);
      seen.add(node.name);
    }
    return new DagGraph(nodes);
  }

  /** Names in the order they were given. */
  names(): string[] {
    return [...this.order];
  }

  has(name: string): boolean {
    return this.deps.has(name);
  }

  /** Direct dependencies, as declared. */
  dependenciesOf(name: string): string[] {
    return [...(this.deps.get(name) ?? [])];
  }

  /** Tasks that list `name` among their dependencies, in declaration order. */
  directDependentsOf(name: string): string[] {
    return [...(this.children.get(name) ?? [])];
  }

  /**
   * Every task that waits on `name`, directly or through others (not `name` itself), in
   * topological order: these are the tasks a failure of `name` marks upstream_failed.
   */
  dependentsOf(name: string): string[] {
    const found = new Set<string>();
    const stack = [...(this.children.get(name) ?? [])];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (found.has(next) || next === name) continue;
      found.add(next);
      stack.push(...(this.children.get(next) ?? []));
    }
    return this.topologicalOrder().filter((n) => found.has(n));
  }

  /** Tasks with no dependencies: the ones queued when a run starts. */
  roots(): string[] {
    return this.order.filter((name) => (this.deps.get(name) ?? []).length === 0);
  }

  /**
   * Every task after all of its dependencies. Among tasks that are ready at the same time the
   * one declared first comes first, so the order is stable and reads like the file. Throws if
   * the graph has a cycle (call findCycle() first for a message).
   */
  topologicalOrder(): string[] {
    this.topoCache ??= this.computeTopologicalOrder();
    return [...this.topoCache];
  }

  private computeTopologicalOrder(): string[] {
    const remaining = new Map<string, number>();
    for (const name of this.order) {
      remaining.set(name, (this.deps.get(name) ?? []).filter((d) => this.deps.has(d)).length);
    }
    const result: string[] = [];
    const done = new Set<string>();
    while (result.length < this.order.length) {
      const next = this.order.find((name) => !done.has(name) && remaining.get(name) === 0);
      if (next === undefined) throw new Error('the graph has a cycle');
      done.add(next);
      result.push(next);
      for (const child of this.children.get(next) ?? []) remaining.set(child, (remaining.get(child) ?? 0) - 1);
    }
    return result;
  }

  /**
   * One cycle as a closed path (`['a', 'b', 'c', 'a']`: a depends on b, b on c, c on a), or
   * undefined when the graph is acyclic. Searches from tasks in declaration order, so the
   * answer is deterministic.
   */
  findCycle(): string[] | undefined {
    const WHITE = 0;
    const GREY = 1;
    const BLACK = 2;
    const colour = new Map<string, number>(this.order.map((n) => [n, WHITE]));
    const path: string[] = [];
    // iterative DFS: each frame is a node and the index of the next dependency to visit
    for (const start of this.order) {
      if (colour.get(start) !== WHITE) continue;
      const stack: Array<{ name: string; next: number }> = [{ name: start, next: 0 }];
      colour.set(start, GREY);
      path.push(start);
      while (stack.length > 0) {
        const frame = stack[stack.length - 1]!;
        const deps = this.deps.get(frame.name) ?? [];
        if (frame.next >= deps.length) {
          colour.set(frame.name, BLACK);
          stack.pop();
          path.pop();
          continue;
        }
        const dep = deps[frame.next]!;
        frame.next += 1;
        const c = colour.get(dep);
        if (c === undefined || c === BLACK) continue;
        if (c === GREY) return [...path.slice(path.indexOf(dep)), dep];
        colour.set(dep, GREY);
        path.push(dep);
        stack.push({ name: dep, next: 0 });
      }
    }
    return undefined;
  }
}
