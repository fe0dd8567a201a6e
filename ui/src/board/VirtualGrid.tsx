/**
 * A grid that draws only the rows in view (./gridMath.ts), in a scrolling box of its own. Keyboard: one item is in
 * the tab order at a time (a roving tabindex); the arrow keys, Page Up/Down, Home and End move between items —
 * scrolling the next one into view and drawing it first — and Enter opens the focused one.
 */
import type { ComponentChild } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { gridWindow, moveFocus, scrollToShow, type GridGeometry, type GridWindow } from './gridMath.ts';

export interface VirtualGridProps<T> {
  items: readonly T[];
  itemKey: (item: T) => string;
  renderItem: (item: T, focus: { active: boolean }) => ComponentChild;
  onOpen?: (item: T) => void;
  label: string;
  minItemWidth: number;
  itemHeight: number;
  gap: number;
}

function useViewport(ref: { current: HTMLDivElement | null }) {
  const [box, setBox] = useState({ width: 0, height: 0, scrollTop: 0 });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => setBox({ width: el.clientWidth, height: el.clientHeight, scrollTop: el.scrollTop });
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    el.addEventListener('scroll', measure, { passive: true });
    measure();
    return () => {
      observer.disconnect();
      el.removeEventListener('scroll', measure);
    };
  }, [ref]);
  return box;
}

interface RovingFocus {
  /** The item in the tab order: the focused one, or the first drawn when that one was scrolled away. */
  tabStop: number;
  onKeyDown: (e: KeyboardEvent) => void;
  onFocusIn: (e: FocusEvent) => void;
}

/** The keyboard of the grid: one item in the tab order; keys move it, scrolling it into view, then focus it. */
function useRovingFocus<T>(props: VirtualGridProps<T>, scroller: { current: HTMLDivElement | null }, geometry: GridGeometry, win: GridWindow, height: number): RovingFocus {
  const { items } = props;
  const [active, setActive] = useState(0);
  const focusNext = useRef(false);
  const current = Math.min(active, Math.max(0, items.length - 1));
  useLayoutEffect(() => {
    if (!focusNext.current) return;
    focusNext.current = false;
    scroller.current?.querySelector<HTMLElement>(`[data-index="${current}"]`)?.focus({ preventScroll: true });
  });
  const onKeyDown = (e: KeyboardEvent) => {
    const index = (e.target as HTMLElement).dataset.index;
    if (index === undefined || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === 'Enter') {
      const item = items[Number(index)];
      if (item !== undefined) props.onOpen?.(item);
      e.preventDefault();
      return;
    }
    const pageRows = Math.max(1, Math.floor(height / (geometry.itemHeight + geometry.gap)));
    const to = moveFocus(e.key, Number(index), items.length, win.columns, pageRows);
    if (to === null) return;
    e.preventDefault();
    const el = scroller.current!;
    el.scrollTop = scrollToShow(geometry, to, el.scrollTop, el.clientHeight);
    focusNext.current = true;
    setActive(to);
  };
  const onFocusIn = (e: FocusEvent) => {
    const index = (e.target as HTMLElement).closest<HTMLElement>('[data-index]')?.dataset.index;
    if (index !== undefined && Number(index) !== current) setActive(Number(index));
  };
  return { tabStop: current >= win.start && current < win.end ? current : win.start, onKeyDown, onFocusIn };
}

export function VirtualGrid<T>(props: VirtualGridProps<T>) {
  const { items, minItemWidth, itemHeight, gap } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const box = useViewport(scroller);
  const geometry: GridGeometry = { width: box.width, minItemWidth, itemHeight, gap };
  const win = gridWindow(geometry, items.length, box.scrollTop, box.height || 800);
  const { tabStop, onKeyDown, onFocusIn } = useRovingFocus(props, scroller, geometry, win, box.height);
  return (
    <div class="vgrid" ref={scroller}>
      <div class="vgrid-space" style={{ height: `${win.totalHeight}px` }}>
        <div
          role="list" aria-label={props.label} class="vgrid-window" onKeyDown={onKeyDown} onFocusIn={onFocusIn}
          style={{ transform: `translateY(${win.offsetY}px)`, gridTemplateColumns: `repeat(${win.columns}, minmax(0, 1fr))`, gap: `${gap}px`, gridAutoRows: `${itemHeight}px` }}
        >
          {items.slice(win.start, win.end).map((item, i) => {
            const index = win.start + i;
            return (
              <div key={props.itemKey(item)} role="listitem" class="vgrid-item" data-index={index} tabIndex={index === tabStop ? 0 : -1}
                aria-posinset={index + 1} aria-setsize={items.length}>
                {props.renderItem(item, { active: index === tabStop })}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
