/**
 * Which cards of a virtualised grid to draw: the rows that meet the scrolled viewport, plus a few above and below.
 * Cards have a fixed height, so the whole grid's height and any row's place are arithmetic, and only the drawn rows
 * cost anything, whether the board has fifty users or fifty thousand.
 */
export interface GridGeometry {
  /** Width of the grid's content box, px. */
  width: number;
  /** Smallest width of a card, px: as many columns as fit. */
  minItemWidth: number;
  itemHeight: number;
  gap: number;
}

export interface GridWindow {
  columns: number;
  rows: number;
  /** Height of the whole grid, px. */
  totalHeight: number;
  /** First and last (exclusive) index drawn. */
  start: number;
  end: number;
  /** Where the first drawn row starts, px from the grid's top. */
  offsetY: number;
}

export function columnsFor(g: GridGeometry): number {
  return Math.max(1, Math.floor((g.width + g.gap) / (g.minItemWidth + g.gap)));
}

export function gridWindow(g: GridGeometry, count: number, scrollTop: number, viewportHeight: number, overscanRows = 2): GridWindow {
  const columns = columnsFor(g);
  const rows = Math.ceil(count / columns);
  const rowStride = g.itemHeight + g.gap;
  const totalHeight = rows === 0 ? 0 : rows * rowStride - g.gap;
  const firstRow = Math.max(0, Math.floor(scrollTop / rowStride) - overscanRows);
  const lastRow = Math.min(rows, Math.ceil((scrollTop + viewportHeight) / rowStride) + overscanRows);
  return {
    columns, rows, totalHeight,
    start: Math.min(count, firstRow * columns),
    end: Math.min(count, Math.max(firstRow, lastRow) * columns),
    offsetY: firstRow * rowStride,
  };
}

/** The scrollTop that brings item `index` fully into view (or the current one when it already is). */
export function scrollToShow(g: GridGeometry, index: number, scrollTop: number, viewportHeight: number): number {
  const row = Math.floor(index / columnsFor(g));
  const top = row * (g.itemHeight + g.gap);
  const bottom = top + g.itemHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewportHeight) return bottom - viewportHeight;
  return scrollTop;
}

/** Where a key moves the focused item in a grid of `columns` (null: the key is not a move). */
export function moveFocus(key: string, index: number, count: number, columns: number, pageRows: number): number | null {
  const last = count - 1;
  const moves: Record<string, number> = {
    ArrowRight: index + 1,
    ArrowLeft: index - 1,
    ArrowDown: index + columns,
    ArrowUp: index - columns,
    PageDown: index + columns * pageRows,
    PageUp: index - columns * pageRows,
    Home: 0,
    End: last,
  };
  const to = moves[key];
  if (to === undefined || count === 0) return null;
  return Math.max(0, Math.min(last, to));
}
