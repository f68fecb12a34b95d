import { type DealPhase, dealPhaseTransitions, isAllowedPhaseTransition } from '@citydeals/contracts';

export type TransitionDecision =
  | { allowed: true; from: DealPhase; to: DealPhase }
  | {
      allowed: false;
      from: DealPhase;
      to: DealPhase;
      /** The phases the deal may move to instead; empty once the deal is completed or discontinued. */
      allowedPhases: DealPhase[];
      why: string;
    };

/**
 * Decides a requested phase change. The legal moves live in the contracts package so the service and every
 * consumer validating `phase_changed` agree; this adds the explanation a refused caller needs.
 */
export function decideTransition(from: DealPhase, to: DealPhase): TransitionDecision {
  if (isAllowedPhaseTransition(from, to)) return { allowed: true, from, to };
  const allowedPhases = [...dealPhaseTransitions[from]];
  let why: string;
  if (allowedPhases.length === 0) why = `the deal is ${from}; a ${from} deal does not change phase any more`;
  else if (from === to) why = `the deal is already ${from}`;
  else why = `a deal cannot move from ${from} to ${to}; allowed: ${allowedPhases.join(', ')}`;
  return { allowed: false, from, to, allowedPhases, why };
}
