export { estimateMonthlyCost } from "./estimate";
export type { CostEstimate, CostLine, EstimateOptions, NoFixedCharge, UnestimatedItem } from "./estimate";
export { formatCostComparison, formatCostEstimate } from "./format";
export { priceTable } from "./prices";
export type { PriceTable, RegionPrices } from "./prices";
