/**
 * A component that re-renders only when one of its props changes (compared with Object.is): what preact/compat's
 * memo does, without pulling compat into the bundle.
 */
import { Component, type ComponentChild, type FunctionComponent } from 'preact';

export function memo<P extends object>(render: FunctionComponent<P>): FunctionComponent<P> {
  class Memo extends Component<P> {
    override shouldComponentUpdate(next: P): boolean {
      const prev = this.props as Record<string, unknown>;
      const keys = new Set([...Object.keys(prev), ...Object.keys(next)]);
      for (const key of keys) if (!Object.is(prev[key], (next as Record<string, unknown>)[key])) return true;
      return false;
    }

    override render(props: P): ComponentChild {
      return render(props);
    }
  }
  return Memo as unknown as FunctionComponent<P>;
}
