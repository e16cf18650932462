/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The apply journal: retransmits answered from it (also after a restart),
 * recovery after a crash at each stage of a change, corrupt entries, and
 * its bound.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "apply/journal.h"
#include "error.h"
#include "fixture.h"

static void
test_dedupe(Fixture *f, gconstpointer data)
{
	g_autoptr(VtApplyResult) r1 = NULL;
	g_autoptr(VtApplyResult) r2 = NULL;
	g_autoptr(VtApplyResult) r3 = NULL;
	g_autoptr(VtApplyResult) r4 = NULL;
	VtApplier *fresh;

	set_policy(f, ALL);
	r1 = apply_json(f, "{\"request_id\":\"x1\",\"action\":{\"set_channels\":{\"iface\":"
			   "\"eth0\",\"combined\":3}}}");
	expect(r1, ST(applied), "");
	g_assert_cmpuint(f->nic.calls_set, ==, 1);

	/* somebody else sets it back; the retransmit must not apply again */
	f->nic.ch.combined_count = 1;
	r2 = apply_json(f, "{\"request_id\":\"x1\",\"action\":{\"set_channels\":{\"iface\":"
			   "\"eth0\",\"combined\":3}}}");
	expect(r2, ST(applied), "duplicate");
	g_assert_cmpstr(r2->change_id, ==, r1->change_id);
	g_assert_cmpstr(r2->before, ==, "combined=2");
	g_assert_cmpstr(r2->after, ==, "combined=3");
	g_assert_cmpuint(f->nic.calls_set, ==, 1);
	g_assert_cmpuint(f->nic.ch.combined_count, ==, 1);

	/* the same id for another action is not the same request */
	r3 = apply_json(f, "{\"request_id\":\"x1\",\"action\":{\"set_channels\":{\"iface\":"
			   "\"eth0\",\"combined\":2}}}");
	expect(r3, ST(invalid), "request_id_reused");

	/* and the journal remembers across a restart */
	fresh = vt_applier_new(f->root, f->state, &f->nic.ops, NULL);
	vt_applier_free(f->ap);
	f->ap = fresh;
	set_policy(f, ALL);
	r4 = apply_json(f, "{\"request_id\":\"x1\",\"action\":{\"set_channels\":{\"iface\":"
			   "\"eth0\",\"combined\":3}}}");
	expect(r4, ST(applied), "duplicate");
	g_assert_cmpstr(r4->change_id, ==, r1->change_id);
	g_assert_cmpuint(f->nic.calls_set, ==, 1);
}

/* ---------------------------------------------------------------- crash */

static void
die_at(VtApplyStage stage, gpointer user)
{
	if (stage == (VtApplyStage)GPOINTER_TO_INT(user))
		raise(SIGKILL);
}

/* A child applies and dies at @stage; the parent starts again. */
static void
crash_at(Fixture *f, VtApplyStage stage, const char *request)
{
	pid_t pid;
	int status;

	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		g_autoptr(VtApplyResult) r = NULL;
		vt_applier_set_hook(f->ap, die_at, GINT_TO_POINTER(stage));
		r = apply_json(f, request);
		_exit(0); /* not reached when the hook fires */
	}
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFSIGNALED(status));
	g_assert_cmpint(WTERMSIG(status), ==, SIGKILL);
}

static void
test_crash(Fixture *f, gconstpointer data)
{
	const char *req1 = "{\"request_id\":\"c1\",\"action\":" SWAP10 "}";
	const char *req2 = "{\"request_id\":\"c2\",\"persist\":true,\"action\":{\"set_scheduler\":"
			   "{\"device\":\"vdb\",\"name\":\"kyber\"}}}";
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(VtApplyResult) a1 = NULL;
	g_autoptr(VtApplyResult) a2 = NULL;
	g_autoptr(VtApplyResult) b = NULL;

	set_policy(f, ALL "persist=true\n");

	/* dies after the journal holds the before value, before the write */
	crash_at(f, VT_APPLY_STAGE_JOURNALED, req1);
	g_assert_cmpstr(rd(f, "proc/sys/vm/swappiness"), ==, "60");
	fixture_restart(f, ALL "persist=true\n", warnings);
	g_assert_cmpuint(warnings->len, ==, 1);
	g_assert_nonnull(strstr(warnings->pdata[0], "marked failed"));
	a1 = apply_json(f, req1); /* answered from the journal, not applied */
	expect(a1, ST(failed), "interrupted");
	g_assert_cmpstr(rd(f, "proc/sys/vm/swappiness"), ==, "60");

	/* dies after the write, before the after value and the drop-in */
	crash_at(f, VT_APPLY_STAGE_CHANGED, req2);
	g_assert_cmpstr(rd(f, "sys/block/vdb/queue/scheduler"), ==, "kyber");
	g_assert_null(rd(f, "etc/udev/rules.d/90-virt-tune.rules"));
	g_ptr_array_set_size(warnings, 0);
	fixture_restart(f, ALL "persist=true\n", warnings);
	g_assert_cmpuint(warnings->len, ==, 1);
	g_assert_nonnull(strstr(warnings->pdata[0], "marked applied"));
	a2 = apply_json(f, req2);
	expect(a2, ST(applied), "duplicate");
	g_assert_cmpstr(a2->after, ==, "kyber");
	g_assert_nonnull(rd(f, "etc/udev/rules.d/90-virt-tune.rules"));

	/* a rollback that dies half way is reconciled too */
	{
		pid_t pid = fork();
		int status;
		if (pid == 0) {
			g_autoptr(VtApplyResult) r = NULL;
			vt_applier_set_hook(f->ap, die_at, GINT_TO_POINTER(VT_APPLY_STAGE_CHANGED));
			r = rollback(f, "cb1", a2->change_id);
			_exit(0);
		}
		g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
		g_assert_true(WIFSIGNALED(status));
	}
	fixture_restart(f, ALL "persist=true\n", NULL);
	b = rollback(f, "cb1", a2->change_id);
	expect(b, ST(rolled_back), "duplicate");
	g_assert_cmpstr(rd(f, "sys/block/vdb/queue/scheduler"), ==, "mq-deadline");
	g_assert_null(rd(f, "etc/udev/rules.d/90-virt-tune.rules"));
}

/* ---------------------------------------------------------------- entries */

static void
test_journal_corrupt(Fixture *f, gconstpointer data)
{
	static const char *const junk[] = {
		"not json",
		"{\"format\":1}",
		"{\"format\":1,\"seq\":3,\"change_id\":\"x-3\",\"request_id\":\"r\",\"kind\":"
		"\"apply\",\"state\":\"applied\",\"before\":\"1\",\"target\":\"2\",\"after\":\"2\","
		"\"created_ms\":1,\"updated_ms\":1,\"action\":{\"set_sysctl\":{\"key\":7}}}",
		"[1,2,3]",
	};
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(VtApplyResult) r = NULL;
	g_autoptr(VtApplyResult) good = NULL;

	set_policy(f, ALL);
	good = apply_json(f, "{\"request_id\":\"j1\",\"action\":" SWAP10 "}");
	expect(good, ST(applied), "");
	for (gsize i = 0; i < G_N_ELEMENTS(junk); i++) {
		g_autofree char *name = g_strdup_printf("var/lib/virt-tune-agent/journal/%010zu%s",
							i + 100, vt_journal_suffix);
		fake_write(f->root, name, junk[i]);
	}
	{
		g_autofree char *big = g_strnfill(VT_JOURNAL_ENTRY_MAX + 10, ' ');
		g_autofree char *name = g_strconcat("var/lib/virt-tune-agent/journal/0000000200",
						    vt_journal_suffix, NULL);
		fake_write(f->root, name, big);
	}
	fixture_restart(f, ALL "persist=true\n", warnings);
	g_assert_cmpuint(warnings->len, ==, G_N_ELEMENTS(junk) + 1);
	g_assert_nonnull(rd(f, "var/lib/virt-tune-agent/journal/0000000100.corrupt"));
	{
		g_autofree char *name = g_strconcat("var/lib/virt-tune-agent/journal/0000000100",
						    vt_journal_suffix, NULL);
		g_assert_null(rd(f, name));
	}
	/* the good entry is still there, and new ids come after the bad ones */
	r = apply_json(f, "{\"request_id\":\"j1\",\"action\":" SWAP10 "}");
	expect(r, ST(applied), "duplicate");
	{
		g_autoptr(VtApplyResult) n =
			apply_json(f, "{\"request_id\":\"j2\",\"action\":{\"set_sysctl\":{\"key\":"
				      "\"vm.swappiness\",\"value\":\"20\"}}}");
		expect(n, ST(applied), "");
		g_assert_true(g_str_has_suffix(n->change_id, "-201"));
	}
}

static guint
count_entries(Fixture *f)
{
	g_autofree char *dir = g_build_filename(f->state, "journal", NULL);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;
	guint n = 0;

	while ((name = g_dir_read_name(d)) != NULL)
		n += g_str_has_suffix(name, vt_journal_suffix);
	return n;
}

static void
test_journal_bound(Fixture *f, gconstpointer data)
{
	g_autoptr(VtApplyResult) first = NULL;
	g_autoptr(VtApplyResult) kept = NULL;
	g_autoptr(VtApplyResult) old = NULL;

	set_policy(f, ALL "persist=true\n");
	kept = apply_json(
		f, "{\"request_id\":\"keep\",\"persist\":true,\"action\":{\"set_queue_param\":"
		   "{\"device\":\"vdb\",\"read_ahead_kb\":512}}}");
	expect(kept, ST(applied), "");
	for (guint i = 0; i < VT_JOURNAL_MAX_ENTRIES + 20; i++) {
		g_autofree char *json = g_strdup_printf(
			"{\"request_id\":\"n%u\",\"action\":{\"set_sysctl\":{\"key\":"
			"\"vm.swappiness\",\"value\":\"%u\"}}}",
			i, 1 + i % 90);
		g_autoptr(VtApplyResult) r = apply_json(f, json);
		expect(r, ST(applied), "");
		if (i == 0)
			first = g_steal_pointer(&r);
	}
	g_assert_cmpuint(count_entries(f), <=, VT_JOURNAL_MAX_ENTRIES);
	/* the oldest plain change went, the persistent one stayed */
	old = rollback(f, "o1", first->change_id);
	expect(old, ST(invalid), "unknown_change");
	{
		g_autoptr(VtApplyResult) r = rollback(f, "o2", kept->change_id);
		expect(r, ST(rolled_back), "");
	}
}

static char *
journal_dir_of(const char *state)
{
	return g_build_filename(state, "journal", NULL);
}

/* A journal directory someone else prepared is refused, never followed. */
static void
test_journal_dir_refused(void)
{
	g_autofree char *state = g_dir_make_tmp("vt-journal-XXXXXX", NULL);
	g_autofree char *elsewhere = g_dir_make_tmp("vt-elsewhere-XXXXXX", NULL);
	g_autofree char *dir = journal_dir_of(state);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtJournal) j = NULL;

	g_assert_cmpint(symlink(elsewhere, dir), ==, 0);
	j = vt_journal_open(state, NULL, &error);
	g_assert_null(j);
	g_assert_error(error, VT_ERROR, VT_ERROR_PERMISSION);
	g_assert_nonnull(strstr(error->message, "a symbolic link"));
	g_clear_error(&error);
	g_assert_cmpint(unlink(dir), ==, 0);

	g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
	g_assert_cmpint(chmod(dir, 0755), ==, 0);
	j = vt_journal_open(state, NULL, &error);
	g_assert_null(j);
	g_assert_error(error, VT_ERROR, VT_ERROR_PERMISSION);
	g_assert_nonnull(strstr(error->message, "mode 0755"));
	g_clear_error(&error);

	g_assert_cmpint(chmod(dir, 0700), ==, 0);
	j = vt_journal_open(state, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(j);
	g_clear_pointer(&j, vt_journal_free);
	fake_rm_rf(state);
	g_assert_cmpint(g_rmdir(elsewhere), ==, 0);
}

/* A truncated id file and a stray entry name: said, bounded, no leak. */
static void
test_journal_id_and_seq(void)
{
	g_autofree char *state = g_dir_make_tmp("vt-journal-XXXXXX", NULL);
	g_autofree char *dir = journal_dir_of(state);
	g_autofree char *id = g_build_filename(dir, "id", NULL);
	g_autofree char *stray_name = g_strconcat("9999999999", vt_journal_suffix, NULL);
	g_autofree char *stray = g_build_filename(dir, stray_name, NULL);
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(VtJournal) j = NULL;
	g_autoptr(VtJournalEntry) e = NULL;

	g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
	g_assert_true(g_file_set_contents(id, "3fa1", -1, NULL));
	g_assert_true(g_file_set_contents(stray, "{}", -1, NULL));
	j = vt_journal_open(state, warnings, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(warnings->len, ==, 2);
	g_assert_nonnull(strstr(warnings->pdata[0], "not a journal id; starting the new id"));
	g_assert_nonnull(strstr(warnings->pdata[1], stray_name));
	g_assert_nonnull(strstr(warnings->pdata[1], ": a sequence number above"));
	e = vt_journal_new_entry(j, VT_JOURNAL_APPLY, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(e->seq, ==, 1);
	g_clear_pointer(&j, vt_journal_free);
	fake_rm_rf(state);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD_TEST("/apply/dedupe", test_dedupe);
	ADD_TEST("/apply/crash", test_crash);
	ADD_TEST("/apply/journal-corrupt", test_journal_corrupt);
	ADD_TEST("/apply/journal-bound", test_journal_bound);
	g_test_add_func("/apply/journal-dir-refused", test_journal_dir_refused);
	g_test_add_func("/apply/journal-id-and-seq", test_journal_id_and_seq);
	return g_test_run();
}
