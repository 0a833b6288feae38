#ifndef VENEER_CLIBXML2_SHIM_H
#define VENEER_CLIBXML2_SHIM_H

// Debian builds libxml2 with ICU; its headers then pull <unicode/*.h> into this module, which
// clashes with Foundation's own ICU module. Nothing here needs libxml2's ICU API.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED

#include <libxml/parser.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <stddef.h>

// GNU byte searches the rewriter uses; <string.h> only declares them under _GNU_SOURCE, which the
// Swift Glibc module is not built with.
extern void *memmem(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen);
extern void *memrchr(const void *s, int c, size_t n);

#endif
