import { GraphQLError, Kind, type SelectionSetNode, type ValidationContext, type ValidationRule } from "graphql";

/**
 * A cost limit, as a validation rule: every field an operation selects (fragments expanded)
 * counts one, and an operation may run only so many root fields, so one request cannot fan out
 * into hundreds of presigns or list pages through aliases. Depth has its own limit (mercurius'
 * `queryDepth`); batched requests are off.
 *
 * Counting is linear in the document: each fragment is counted once and remembered, and counts
 * stop growing past the limit, so fragments that spread each other twice over (2^n fields from
 * n fragments) cost n steps, not 2^n.
 */
export function costLimit(limits: { maxFields: number; maxRootFields: number }): ValidationRule {
  return (context) => {
    const roots = new Counter(context, false, limits.maxRootFields);
    const all = new Counter(context, true, limits.maxFields);
    return {
      OperationDefinition(node) {
        const rootCount = roots.count(node.selectionSet);
        if (rootCount > limits.maxRootFields) {
          context.reportError(new GraphQLError(`This operation runs more than ${limits.maxRootFields} root fields; at most ${limits.maxRootFields} are allowed in one request.`, { nodes: [node] }));
        } else if (all.count(node.selectionSet) > limits.maxFields) {
          context.reportError(new GraphQLError(`This operation selects more than ${limits.maxFields} fields; at most ${limits.maxFields} are allowed in one request.`, { nodes: [node] }));
        }
      },
    };
  };
}

/** Fields of a selection set, fragments expanded; any count over `cap` is reported as `cap + 1`. */
class Counter {
  readonly #fragments = new Map<string, number>();
  readonly #visiting = new Set<string>();

  constructor(
    private readonly context: ValidationContext,
    private readonly deep: boolean,
    private readonly cap: number,
  ) {}

  count(set: SelectionSetNode | undefined): number {
    let count = 0;
    for (const selection of set?.selections ?? []) {
      if (count > this.cap) break;
      if (selection.kind === Kind.FIELD) count += 1 + (this.deep ? this.count(selection.selectionSet) : 0);
      else if (selection.kind === Kind.INLINE_FRAGMENT) count += this.count(selection.selectionSet);
      else count += this.#fragment(selection.name.value);
    }
    return Math.min(count, this.cap + 1);
  }

  #fragment(name: string): number {
    const known = this.#fragments.get(name);
    if (known !== undefined) return known;
    // A fragment that spreads itself is refused by GraphQL's own rules; here it just stops.
    if (this.#visiting.has(name)) return 0;
    this.#visiting.add(name);
    const count = this.count(this.context.getFragment(name)?.selectionSet);
    this.#visiting.delete(name);
    this.#fragments.set(name, count);
    return count;
  }
}
