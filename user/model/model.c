/* model.c - the pipeline from the runs' metrics to the cross-run figures, verdicts and answer. */
#include "model.h"

int md_report_finish(struct an_report *rep)
{
	int ret = an_report_derive(rep);

	if (ret)
		return ret;
	/* verdicts compare with the sync run's figures: all of them are final by now */
	for (size_t i = 0; i < rep->nruns; i++)
		an_verdict_eval(&rep->runs[i], an_sync_of(rep, &rep->runs[i]), rep);
	rep->answer[0] = '\0';
	if (rep->want_answer)
		an_answer(rep, rep->answer, sizeof(rep->answer));
	return 0;
}
