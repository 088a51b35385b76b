/** One benchmark figure: a value and the same-run baseline it is compared with. */
export interface BenchFigure {
  id: string;
  value: number;
  unit: string;
  baseline: number;
  /** value / baseline. */
  ratio: number;
  note?: string;
}
