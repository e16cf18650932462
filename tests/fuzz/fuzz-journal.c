/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One file of the agent's apply journal in the JSON codec (the one agent_dep
 * links), read back at start: parsed as untrusted input; whatever parses must
 * serialise and parse again to the same text.
 */
#include "fuzz.h"
#include "apply/journal.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(VtJournalEntry) entry = NULL;
	g_autoptr(VtJournalEntry) again = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	g_autofree char *text2 = NULL;

	vt_fuzz_setup();
	entry = vt_journal_entry_from_text((const char *)data, size, &error);
	if (entry == NULL) {
		g_assert(error != NULL);
		return 0;
	}
	text = vt_journal_entry_to_text(entry);
	again = vt_journal_entry_from_text(text, strlen(text), &error);
	if (again == NULL)
		g_error("a journal entry did not parse back: %s: %s", error->message, text);
	text2 = vt_journal_entry_to_text(again);
	if (strcmp(text, text2) != 0)
		g_error("a journal entry changed on its way back:\n%s\n%s", text, text2);
	return 0;
}
