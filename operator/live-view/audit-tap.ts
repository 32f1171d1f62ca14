// The live view reads what the operator writes to its audit trail: a tap on the reconciler's audit port that
// passes each record on after the sink acknowledged it (so the screen never shows a row the trail lacks). A tap
// that throws is the view's problem, never the trail's: its error is swallowed after the write succeeded.
import type { DecisionRecord } from '../audit/decision.ts';
import type { UsageRecord } from '../audit/usage.ts';
import type { AuditPort } from '../reconciler/ports.ts';

export interface AuditTap {
  usage(r: UsageRecord): void;
  decision(r: DecisionRecord): void;
}

export function tapAudit(port: AuditPort, tap: AuditTap): AuditPort {
  const quietly = (fn: () => void) => {
    try {
      fn();
    } catch {
      // the view must never fail a write
    }
  };
  return {
    async writeUsage(r) {
      await port.writeUsage(r);
      quietly(() => tap.usage(r));
    },
    async writeDecision(r) {
      await port.writeDecision(r);
      quietly(() => tap.decision(r));
    },
  };
}
