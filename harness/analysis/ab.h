/* ab.h: interleaved A/B of two builds (attnbench ab): pooling each side's rounds into one
 * results document, and judging each case on its paired rounds.
 *
 * Why paired rounds. A shared machine drifts by tens of percent within minutes; two runs
 * taken one after the other see different machines, and every case moves together. In
 * `ab`, round r times case c with both builds back to back (order alternating, A B then
 * B A), so whatever the machine does in that minute falls on both. Each round gives one
 * ratio new/base of the two sides' fastest calls in that round; the drift cancels in the
 * ratio, and the rounds' spread is what is left of the noise. The fastest call, not the
 * median: a process that takes the core for part of a round (a CI neighbour, a cron job)
 * slows the calls it overlaps, and a round's median moves as soon as it overlaps half of
 * them, while its fastest call moves only when every call was hit. Attention kernels
 * have no data-dependent work, so the fastest call is the kernel's cost without
 * interference. Rounds a disturbance hit are left out first (attn_paired_disturbed): a
 * process slowed as a whole, fastest call included, by a neighbour on the core's SMT
 * sibling or another VM on the host (the thread's CPU time grows too), moves one side of
 * one round by 1.3-2x, while a change of the build moves every round alike; a round ratio
 * farther than max(3.5 robust SDs, 10%) from the median round ratio is dropped, unless
 * fewer than 3 rounds or fewer than half would remain. The verdict is compare's rule on
 * the paired statistics of the rounds kept:
 *   regressed     p < alpha (paired t on log ratios)  AND  ratio > 1 + T
 *                 AND  lower end of the 90% interval > (1 + T) / sqrt(1 + t)
 *                 AND  the interval narrower than +-t (the rounds pin the change down)
 *   improved      the same mirrored
 *   inconclusive  neither, but the interval is wider than +-t, or the ratio moved by more
 *                 than T, or heavy noise across cases (below): rerun (exit 3), never a
 *                 pass and never a regression
 *   unchanged     otherwise
 * where T = t, widened with 8 or more precise cases (interval narrower than +-t) to
 * e^(3 sigma) - 1, sigma the spread of their paired log ratios around their median
 * (1.4826 MAD). Why both. Pairing cancels drift, but a process that shares the core with
 * one side for its whole life slows every call of it, fastest included; on this project's
 * 2-core VM under a load average of 7 such rounds were off by 0.3x-2.3x, and one case of
 * an A/A run had all 6 rounds slower, +24% at p = 0.005 (with 40 cases, one case whose
 * 6 rounds all go the same way is expected). Its interval, +13% .. +36%, was wider than
 * +-5%: the precision rule makes it inconclusive, while a kernel 25% slower whose rounds
 * agree within 2-3% is still called. The spread across precise cases catches what is left
 * (rounds that agree on a wrong value). The median is not subtracted: in ab it is the
 * build's change (pairing removed the machine's), so a build 15% slower everywhere is
 * regressed everywhere. Heavy noise, 3 sigma beyond log(1 + 2t), makes every case not
 * called inconclusive, as in compare.
 */
#ifndef ATTN_AB_H
#define ATTN_AB_H

#include <cjson/cJSON.h>
#include "analysis/compare.h"

/* One case of one side over the rounds: the case object each round's run wrote (NULL:
 * that round has none). */
typedef struct attn_ab_side {
    cJSON **round;              /* (rounds) owned */
} attn_ab_side;

/* Pool a side's rounds into one case object: the first round's record with every round's
 * samples in time_s.samples, the statistics recomputed from them, time_s.rounds = number
 * of rounds pooled, "ab_round_medians": [median of each round] and "ab_round_mins":
 * [fastest call of each round] (null where a round has none). A round whose status
 * is not ok makes the pooled status that round's (its reason kept). NULL when no round
 * has the case. Caller owns the result. */
cJSON *attn_ab_pool(cJSON *const *round, int rounds);

/* Judge every case of r (from attn_compare_cases on the pooled documents) on its paired
 * rounds: replaces ratio, ci_low/ci_high (90%), p and verdict of the cases measured on
 * both sides with the paired statistics, read from each pooled case's ab_round_mins
 * (ab_round_medians in files written before mins were kept),
 * and recounts the verdicts. */
void attn_ab_judge(attn_cmp_report *r, const attn_cmp_opts *o);

#endif
