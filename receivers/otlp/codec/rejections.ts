/**
 * Items of a request that decode fine but that tokenledger cannot represent (exponential histogram
 * and summary points): left out of the batch and reported to the client as OTLP partial success.
 */
export class Rejections {
  count = 0;
  private metrics = 0;
  private readonly named: string[] = [];

  unsupportedMetric(name: string, kind: string, points: number): void {
    this.count += points;
    if (this.metrics++ < 5) this.named.push(`${JSON.stringify(name)} (${kind})`);
  }

  get message(): string {
    if (this.metrics === 0) return '';
    const more = this.metrics > this.named.length ? `, and ${this.metrics - this.named.length} more` : '';
    return `unsupported metric type: ${this.count} data points rejected, of ${this.named.join(', ')}${more}`;
  }
}
