/* cause.c - a run's cause in a word and a line, and the Answer's line for each strategy. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cause.h"
#include "units.h"
#include "verdict.h"

/*
 * The name each cause rule gets in a table's cause column. A saved run may carry a rule
 * this version does not know (an older or newer table): it is then no cause here.
 */
static const struct {
	const char *rule, *name;
} names[] = {
	{"lock", "lock"},
	{"page_cache", "page cache"},
	{"cpu_saturated", "CPUs"},
	{"disk", "disk"},
	{"exposed_io", "exposed I/O"},
	{"overhead", "overhead"},
	{"wakeup_latency", "wake-ups"},
	{"io_hidden", "I/O hidden"},
	{"near_ideal", "near ideal"},
	{"cpu", "CPU"},
	{"read_cpu", "read copies"},
	{"device", "device"},
	{"cpu_wait", "CPU wait"},
	{"peer", "peer"},
	{"idle", "idle"},
	{"serial", "serial"},
};

/* The bounds of timeline.h in a table's words, in TL_BOUNDS order. */
static const char *const bound_words[TL_NBOUNDS] = {
	"CPU", "read copies", "device", "lock", "CPU wait", "peer", "idle",
};

const char *an_run_peer_word(const struct an_run *run)
{
	uint64_t pipe, sock, other;

	if (!run->by_kind_ok)
		return "peer";
	pipe = run->io_wait_by_kind_ns[wt_io_slot(TL_IOK_PIPE)];
	sock = run->io_wait_by_kind_ns[wt_io_slot(TL_IOK_SOCKET)];
	other = run->io_wait_by_kind_ns[wt_io_slot(TL_IOK_OTHER)];
	if (pipe && !sock && !other)
		return "pipe";
	if (sock && !pipe && !other)
		return "socket";
	return "peer";
}

/*
 * The bound's word, named by its one kind of wait where the run's splits show only one:
 * the peer bound is io_wait on pipes, sockets and other non-storage files, the lock bound
 * mutex and GIL waits (time-model.md, "Bounds").
 */
static const char *bound_word(const struct an_run *run, unsigned b)
{
	if (!run->by_kind_ok)
		return bound_words[b];
	if (b == TL_B_PEER) {
		return an_run_peer_word(run);
	} else if (b == TL_B_LOCK) {
		uint64_t mx = run->lock_wait_by_kind_ns[wt_lock_slot(TL_LK_MUTEX)];
		uint64_t gil = run->lock_wait_by_kind_ns[wt_lock_slot(TL_LK_GIL)];

		if (mx && !gil)
			return "mutex";
		if (gil && !mx)
			return "GIL";
	}
	return bound_words[b];
}

static const char *cause_name(const char *rule)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i].rule, rule))
			return names[i].name;
	return NULL;
}

/* The finding of a verdict line without its evidence or advice, lower case: what stands
 * before the first " (", ": " or " — " ("The disk was the ceiling: busy 85%..."). */
static void finding(const char *text, char *buf, size_t len)
{
	size_t n = strlen(text);
	const char *cut[] = {" (", ": ", " — ", "."};

	for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		const char *p = strstr(text, cut[i]);

		if (p && (size_t)(p - text) < n)
			n = (size_t)(p - text);
	}
	snprintf(buf, len, "%.*s", (int)n, text);
	/* "I/O ..." keeps its capitals; "The disk" does not */
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z') && buf[1] != '/')
		buf[0] = (char)(buf[0] - 'A' + 'a');
}

void an_run_cause(const struct an_run *run, struct an_cause *c)
{
	unsigned b = 0;

	memset(c, 0, sizeof(*c));
	if (!an_run_clean(run) && run->interrupted) {
		snprintf(c->name, sizeof(c->name), "interrupted");
		snprintf(c->reason, sizeof(c->reason),
			 "interrupted by the user, the figures cover part of the work");
		return;
	}
	if (!an_run_clean(run)) {
		snprintf(c->name, sizeof(c->name), "did not finish");
		if (run->exit_status > 128)
			snprintf(c->reason, sizeof(c->reason),
				 "it did not finish (killed by signal %d)", run->exit_status - 128);
		else
			snprintf(c->reason, sizeof(c->reason),
				 "it did not finish (exit status %d)", run->exit_status);
		return;
	}
	c->name[0] = '\0';
	if (run->bound_ok && run->wall_ns) {
		/* the bound that held the longest, and its share of the wall */
		for (unsigned k = 1; k < TL_NBOUNDS; k++)
			if (run->bound_ns[k] > run->bound_ns[b])
				b = k;
		snprintf(c->name, sizeof(c->name), "%s %s", bound_word(run, b),
			 un_pct((double)run->bound_ns[b] / (double)run->wall_ns, 0).s);
	}
	/* the reason: the cause explaining the largest share of the wall, else the first */
	{
		int best = -1;

		for (size_t i = 0; i < run->nverdict && i < AN_MAX_VERDICT; i++)
			if (cause_name(run->verdict[i].rule) && run->verdict[i].share_ok &&
			    !strcmp(run->verdict[i].share_of, "wall") &&
			    (best < 0 || run->verdict[i].share > run->verdict[best].share))
				best = (int)i;
		if (best >= 0) {
			if (!c->name[0])
				snprintf(c->name, sizeof(c->name), "%s",
					 cause_name(run->verdict[best].rule));
			finding(run->verdict[best].text, c->reason, sizeof(c->reason));
			return;
		}
	}
	for (size_t i = 0; i < run->nverdict && i < AN_MAX_VERDICT; i++) {
		const char *name = cause_name(run->verdict[i].rule);

		if (!name)
			continue;
		if (!c->name[0])
			snprintf(c->name, sizeof(c->name), "%s", name);
		finding(run->verdict[i].text, c->reason, sizeof(c->reason));
		return;
	}
	/*
	 * No line names a cause (a report saved before the rules were functions of the bounds,
	 * whose largest bound always has its line): the largest bound is the cause.
	 */
	if (run->bound_ok && run->wall_ns) {
		snprintf(c->reason, sizeof(c->reason), "%s held %s of the wall", bound_words[b],
			 un_pct((double)run->bound_ns[b] / (double)run->wall_ns, 0).s);
		return;
	}
	if (!c->name[0])
		snprintf(c->name, sizeof(c->name), "not measured");
	snprintf(c->reason, sizeof(c->reason),
		 "what bounded the wall was not measured (a report saved before iotrace did)");
}

/*
 * "1.96×" (" (within noise)" when both were repeated and a rank test on their walls does
 * not tell them apart: an_within_noise); ""
 * for a sync run (the line says it is the baseline) or an unknown speedup. With both
 * runs' bounds, how the wall changed against sync's and the bound that changed it most:
 * each wall is the sum of its bounds, so the run's less sync's, bound by bound, sum to
 * the change exactly, and the rest is the change less that term ("1.96× (−329 ms: CPU
 * −287 ms)"; the table's walls give the change too). Within noise, no decomposition: the
 * difference it would split is not measured.
 */
static void speed(const struct an_report *rep, const struct an_run *run, char *buf, size_t len)
{
	const struct an_run *sync = an_sync_of(rep, run);
	int64_t d, dtop = 0, diff;
	int top = 0;

	buf[0] = '\0';
	if (!strcmp(run->strategy, "sync") || !run->speedup_ok)
		return;
	snprintf(buf, len, "%.2f×", run->speedup_vs_sync);
	/* repeated, and their walls not told apart: the ratio is not a ranking */
	if (sync && an_within_noise(run, sync)) {
		un_appendf(buf, len, " (within noise)");
		return;
	}
	if (!sync || sync == run || !sync->bound_ok || !run->bound_ok ||
	    sync->wall_ns == run->wall_ns)
		return;
	diff = (int64_t)run->wall_ns - (int64_t)sync->wall_ns;
	for (int k = 0; k < TL_NBOUNDS; k++) {
		d = (int64_t)run->bound_ns[k] - (int64_t)sync->bound_ns[k];
		if (llabs(d) > llabs(dtop))
			top = k, dtop = d;
	}
	un_appendf(buf, len, " (%s%s: %s %s%s)", diff < 0 ? "−" : "+", un_dur((uint64_t)llabs(diff)).s,
		   bound_words[top], dtop < 0 ? "−" : "+", un_dur((uint64_t)llabs(dtop)).s);
}

/*
 * The runs of one line: a strategy's, one per cache mode, named by the label less its
 * "/<cache>" ("threads/warm" -> "threads", "run-1:threads/cold" -> "run-1:threads" in a
 * combined report); a run without a cache mode (a trace) is a line of its own.
 */
struct key {
	char s[sizeof(((struct an_run *)0)->label)];
};

static struct key line_key(const struct an_run *run)
{
	struct key k;
	size_t n = strlen(run->label), c = strlen(run->cache);

	snprintf(k.s, sizeof(k.s), "%s", run->label);
	if (c && n > c + 1 && k.s[n - c - 1] == '/' && !strcmp(k.s + n - c, run->cache))
		k.s[n - c - 1] = '\0';
	return k;
}

static bool same_line(const struct an_run *a, const struct an_run *b)
{
	return !strcmp(line_key(a).s, line_key(b).s);
}

/* A word that is a figure: "94%", "1.81×", "2.83" (every one starts with a digit). */
static bool figure(const char *w)
{
	return *w >= '0' && *w <= '9';
}

/*
 * The reason of the runs so far (acc) and the next run's, said once if they differ only
 * in their figures: "computing held 94% of the wall" and "... 84% ..." are "computing held
 * 94%/84% of the wall", the figures in the order of the runs. False if the words differ.
 */
static bool merge_reasons(char *acc, size_t len, const char *next)
{
	char out[sizeof(((struct an_cause *)0)->reason) * 2] = "";
	const char *a = acc, *b = next;

	while (*a || *b) {
		size_t na = strcspn(a, " "), nb = strcspn(b, " ");

		if (!*a || !*b)
			return false;
		if (na == nb && !memcmp(a, b, na))
			un_appendf(out, sizeof(out), "%.*s", (int)na, a);
		else if (figure(a) && figure(b))
			un_appendf(out, sizeof(out), "%.*s/%.*s", (int)na, a, (int)nb, b);
		else
			return false;
		a += na;
		b += nb;
		if ((*a == ' ') != (*b == ' '))
			return false;
		if (*a == ' ') {
			un_appendf(out, sizeof(out), " ");
			a++;
			b++;
		}
	}
	if (strlen(out) >= len)
		return false;
	snprintf(acc, len, "%s", out);
	return true;
}

size_t an_answer_lines(const struct an_report *rep, char (*lines)[AN_LINE], size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < rep->nruns && n < max; i++) {
		const struct an_run *run = &rep->runs[i];
		char *l = lines[n];
		char reason[sizeof(((struct an_cause *)0)->reason)] = "";
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = same_line(&rep->runs[j], run);
		if (seen)
			continue;
		l[0] = '\0';
		un_appendf(l, AN_LINE, "%s%s", line_key(run).s,
			   !strcmp(run->strategy, "sync") ? ", the baseline:" : ":");
		/*
		 * The strategy's runs in order; runs whose reasons are alike (the same words,
		 * figures aside) share one, said after the last of them.
		 */
		for (size_t j = i; j < rep->nruns; j++) {
			const struct an_run *a = &rep->runs[j];
			struct an_cause c, next;
			char sp[160];
			size_t k;

			if (!same_line(a, run))
				continue;
			an_run_cause(a, &c);
			if (!reason[0])
				snprintf(reason, sizeof(reason), "%s", c.reason);
			speed(rep, a, sp, sizeof(sp));
			un_appendf(l, AN_LINE, "%s", j == i ? " " : "");
			if (a->cache[0])
				un_appendf(l, AN_LINE, "%s%s", a->cache, sp[0] ? " " : "");
			un_appendf(l, AN_LINE, "%s", sp);
			for (k = j + 1; k < rep->nruns; k++)
				if (same_line(&rep->runs[k], run))
					break;
			if (k < rep->nruns) {
				an_run_cause(&rep->runs[k], &next);
				if (merge_reasons(reason, sizeof(reason), next.reason)) {
					un_appendf(l, AN_LINE, ", ");
					continue;
				}
			}
			un_appendf(l, AN_LINE, "%s%s", a->cache[0] || sp[0] ? " — " : "", reason);
			reason[0] = '\0';
			if (k < rep->nruns)
				un_appendf(l, AN_LINE, "; ");
		}
		n++;
	}
	return n;
}

bool an_machine_line(const struct an_run *run, char *buf, size_t len)
{
	uint64_t ran = an_run_ran_ns(run), self = 0, other;
	bool known;

	if (len)
		buf[0] = '\0';
	if (!run->machine_ok || !len)
		return false;
	known = an_run_tracer_ns(run, &self);
	un_appendf(buf, len, "the machine's CPU time in the run: %s, busy %s (this run's threads %s",
	    un_dur(run->machine_busy_ns + run->machine_idle_ns + run->machine_steal_ns).s,
	    un_dur(run->machine_busy_ns).s, un_dur(ran).s);
	if (known) {
		un_appendf(buf, len, ", iotrace's own tracing %s", un_dur(self).s);
		if (run->tracer_cpu_ok)
			un_appendf(buf, len, ": user %s, system %s", un_dur(run->tracer_user_ns).s,
			    un_dur(run->tracer_sys_ns).s);
		if (run->tracer_cpu_share_ok)
			un_appendf(buf, len, ", %s of the machine's CPU time",
			    un_pct(run->tracer_cpu_share, 0).s);
	}
	an_run_other_work_ns(run, &other);
	other = other > self ? other - self : 0;
	un_appendf(buf, len, "; other programs%s about %s), idle %s", known ? "" : ", iotrace included,",
	    un_dur(other).s, un_dur(run->machine_idle_ns).s);
	if (run->machine_steal_ns)
		un_appendf(buf, len, ", stolen by the hypervisor %s", un_dur(run->machine_steal_ns).s);
	return true;
}

const char *an_question(const struct an_report *rep)
{
	if (rep->answer[0])
		return "Can reading the files concurrently hide the disk behind the hashing, and "
		       "which strategy is fastest here?";
	for (size_t i = 0; i < rep->nruns; i++)
		if (rep->runs[i].speedup_ok && strcmp(rep->runs[i].strategy, "sync"))
			return "Which strategy was fastest, and what bounded each run?";
	return "Where did the program's time go, and what bounded it?";
}

bool an_run_is_best(const struct an_report *rep, const struct an_run *run)
{
	if (!run->speedup_ok || !strcmp(run->strategy, "sync"))
		return false;
	for (size_t i = 0; i < rep->nruns; i++) {
		const struct an_run *o = &rep->runs[i];

		if (o != run && o->speedup_ok && strcmp(o->strategy, "sync") &&
		    !strcmp(o->cache, run->cache) && o->speedup_vs_sync > run->speedup_vs_sync)
			return false;
	}
	return true;
}
