/*
 * attune.models._pycount: lines of code of Python source, in C.
 *
 *     count(data) -> (code, comment, blank, total)
 *
 * data is any bytes-like object holding UTF-8 text. The result is, by
 * contract, exactly loc._count(data.decode(), "Python") of
 * core/attune/models/loc.py: the regular expressions there are the reference
 * (the spec, quirks included), this is the same computation in one linear pass.
 * Where the two disagree, this file is wrong; tests/test_pycount.py compares
 * them on real code and on generated edge cases.
 *
 * What is counted (see loc.py for the why):
 * - total: lines. "\n", "\r\n" and a lone "\r" end a line; a last line without
 *   one counts too.
 * - blank: lines of whitespace only, by str.isspace (the UTF-8 encoded Unicode
 *   spaces included; U+2028/U+2029 are whitespace, not line ends).
 * - comment: lines whose first character after the indentation [ \t\f] is '#'
 *   (outside strings; also inside brackets and after a backslash continuation),
 *   and the non-blank lines of docstrings: a string literal that begins a line
 *   at bracket depth 0 and is followed on its last line only by more one-line
 *   strings, whitespace and a comment.
 * - code: the rest, total - blank - comment.
 * A first line starting with "#!" is code.
 *
 * Invalid UTF-8, NUL bytes and so on never crash: every read is bounds-checked
 * (even the end-of-text "\n" is not trusted as a sentinel: a bytearray may change
 * while we count without the GIL); such input just gives some counts.
 * Only the limited API (Py_LIMITED_API, set by setup.py) is used.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdlib.h>
#include <string.h>

typedef unsigned char uchar;

/* Bytes where a run of plain code stops and the scanner must decide
 * (loc.py's `code` is everything else: [^'"#\n\\()\[\]{}]). */
static const uchar CODE_STOP[256] = {
    ['\n'] = 1, ['#'] = 1, ['\''] = 1, ['"'] = 1, ['\\'] = 1,
    ['('] = 1, [')'] = 1, ['['] = 1, [']'] = 1, ['{'] = 1, ['}'] = 1,
};

/* Bytes where a run inside a '-quoted or "-quoted string stops. */
static const uchar SQ_STOP[256] = {['\n'] = 1, ['\\'] = 1, ['\''] = 1};
static const uchar DQ_STOP[256] = {['\n'] = 1, ['\\'] = 1, ['"'] = 1};

/* Indentation before a comment or docstring: [ \t\f] (not \v, not Unicode). */
static const uchar INDENT[256] = {[' '] = 1, ['\t'] = 1, ['\f'] = 1};

/* Characters that may begin a docstring: a quote or a prefix letter
 * ([rRbBuU]{0,2}; no f: an f-string is never a docstring). */
static const uchar DOC_PREFIX[256] = {
    ['r'] = 1, ['R'] = 1, ['b'] = 1, ['B'] = 1, ['u'] = 1, ['U'] = 1,
};

/* One-byte whitespace of str.isspace, without '\n' (and '\r', which is gone
 * by the time a line is looked at). */
static const uchar WS1[256] = {
    ['\t'] = 1, ['\v'] = 1, ['\f'] = 1, [' '] = 1,
    [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1,
};

/* Length of the whitespace character at p (p < end), 0 if it is none.
 * Multi-byte: U+0085 U+00A0 (C2 ..), U+1680 (E1 9A 80), U+2000-U+200A,
 * U+2028 U+2029 U+202F (E2 80 ..), U+205F (E2 81 9F), U+3000 (E3 80 80). */
static inline size_t
ws_len(const uchar *p, const uchar *end)
{
    uchar c = *p;
    size_t left = (size_t)(end - p);

    if (WS1[c])
        return 1;
    if (c < 0xC2 || c > 0xE3)
        return 0;
    if (c == 0xC2)
        return left >= 2 && (p[1] == 0x85 || p[1] == 0xA0) ? 2 : 0;
    if (left < 3)
        return 0;
    switch (c) {
    case 0xE1:
        return p[1] == 0x9A && p[2] == 0x80 ? 3 : 0;
    case 0xE2:
        if (p[1] == 0x80)
            return p[2] <= 0x8A || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF ? 3 : 0;
        /* p[2] >= 0x80 is implied for valid UTF-8; for invalid it just says
           "whitespace" of some byte soup, which is harmless */
        return p[1] == 0x81 && p[2] == 0x9F ? 3 : 0;
    case 0xE3:
        return p[1] == 0x80 && p[2] == 0x80 ? 3 : 0;
    default:
        return 0;
    }
}

/* Could the byte begin a whitespace character other than [ \t\f] and '\n'? */
static inline int
maybe_ws(uchar c)
{
    return WS1[c] || c == 0xC2 || (c >= 0xE1 && c <= 0xE3);
}

/* Is the line starting at p whitespace up to its '\n'? (loc.py's _BLANK_RE) */
static int
line_is_blank(const uchar *p, const uchar *end)
{
    while (p < end) {
        size_t k;
        if (*p == '\n')
            return 1;
        k = ws_len(p, end);
        if (k == 0)
            return 0;
        p += k;
    }
    return 0; /* no '\n': not a line (cannot happen, the text ends with one) */
}

/* Newlines met where no line-start rule applies: inside strings and after a
 * backslash continuation. `blanks` counts those newlines followed by a blank
 * line; `last_blank` says whether the latest one was. */
typedef struct {
    Py_ssize_t lines;
    Py_ssize_t blanks;
    int last_blank;
} Tally;

static inline void
tally_newline(Tally *t, const uchar *nl, const uchar *end)
{
    t->lines++;
    t->last_blank = nl + 1 < end && line_is_blank(nl + 1, end);
    t->blanks += t->last_blank;
}

/* '...' or "..." from its opening quote at p (loc.py's _PY_SINGLE). Returns
 * the position after the closing quote, or the '\n' that ends it unterminated
 * (not consumed). A backslash escapes any character; an escaped newline
 * continues the string on the next line. Prefixes (r, b, f...) change nothing. */
static const uchar *
scan_single(const uchar *p, const uchar *end, Tally *t)
{
    const uchar quote = *p;
    const uchar *stop = quote == '\'' ? SQ_STOP : DQ_STOP;

    p++;
    for (;;) {
        while (p < end && !stop[*p])
            p++;
        if (p >= end)
            return end;
        if (*p == quote)
            return p + 1;
        if (*p == '\n')
            return p;
        /* backslash */
        if (p + 1 >= end)
            return p; /* nothing to escape: the string ends before it */
        if (p[1] == '\n')
            tally_newline(t, p + 1, end);
        p += 2;
    }
}

/* '''...''' or """...""" from its first quote at p (loc.py's _PY_TRIPLE):
 * returns the position after the closing quotes; unterminated, it runs to the
 * end of the text. */
static const uchar *
scan_triple(const uchar *p, const uchar *end, Tally *t)
{
    const uchar quote = *p;
    const uchar *stop = quote == '\'' ? SQ_STOP : DQ_STOP;

    p += 3;
    for (;;) {
        while (p < end && !stop[*p])
            p++;
        if (p >= end)
            return end;
        if (*p == '\n') {
            tally_newline(t, p, end);
            p++;
        }
        else if (*p == quote) {
            if (p + 2 < end && p[1] == quote && p[2] == quote)
                return p + 3;
            p++;
        }
        else { /* backslash: it and the next character, whatever it is */
            if (p + 1 >= end)
                return end;
            if (p[1] == '\n')
                tally_newline(t, p + 1, end);
            p += 2;
        }
    }
}

/* loc.py's doc_tail, at p just after a docstring's (first) string: only more
 * one-line strings (no prefixes, no triple quotes: ''' reads as '' then '),
 * [ \t\f] and an optional comment up to the end of the line. */
static int
doc_tail(const uchar *p, const uchar *end)
{
    for (;;) {
        Tally ignored = {0, 0, 0};
        while (p < end && INDENT[*p])
            p++;
        if (p >= end || *p == '\n' || *p == '#')
            return 1;
        if (*p != '\'' && *p != '"')
            return 0;
        p = scan_single(p, end, &ignored);
    }
}

/* At q, the first character after the indentation of a line at bracket depth
 * 0. If a docstring starts here, count its lines and return its end (after its
 * first string only: the rest of the line is scanned as ordinary code, as the
 * regex does). Otherwise return q. */
static const uchar *
docstring(const uchar *q, const uchar *end, Tally *t, Py_ssize_t *comments)
{
    const uchar *s = q, *e;
    Tally d = {0, 0, 0};
    Py_ssize_t inner;

    while (s < end && s - q < 2 && DOC_PREFIX[*s])
        s++;
    if (s >= end || (*s != '\'' && *s != '"'))
        return q; /* also three or more letters: `rbu'x'` is no docstring */

    if (s + 2 < end && s[1] == *s && s[2] == *s) {
        e = scan_triple(s, end, &d);
        if (!doc_tail(e, end)) {
            /* A quirk of the regex, kept: when the tail after '''...''' fails,
               it backtracks and reads the opening ''' as the empty string ''
               followed by a one-line string '...; that may pass. */
            d.lines = d.blanks = 0;
            d.last_blank = 0;
            e = s + 2;
            if (!doc_tail(e, end))
                return q;
        }
    }
    else {
        e = scan_single(s, end, &d);
        if (!doc_tail(e, end))
            return q;
    }

    /* As loc.py: the string's first line plus one per newline inside it (a
       newline it ends with, unterminated, opens no line of its own), minus its
       blank lines -- but only those whose own newline is inside the string too
       (_count_blank(doc) sees no further). The one exception, last_blank: an
       unterminated '...\<newline>   ' ends inside a blank line, which loc.py
       then counts as comment and as blank both (code goes down by one). */
    inner = d.lines - (e[-1] == '\n');
    *comments += 1 + inner;
    if (inner)
        *comments -= d.blanks - d.last_blank;
    t->lines += d.lines;
    t->blanks += d.blanks;
    return e;
}

typedef struct {
    Py_ssize_t code, comment, blank, total;
} Counts;

/* Counts of buf[0:n], which has no '\r' and ends with '\n' (n > 0). */
static void
count_text(const uchar *buf, size_t n, Counts *out)
{
    const uchar *p = buf, *end = buf + n;
    Tally t = {0, 0, 0};
    Py_ssize_t comments = 0;
    size_t depth = 0;
    int line_start = 1; /* the first line starts as if after a newline */

    for (;;) {
        if (line_start) {
            /* A line the scanner enters from the previous one's '\n' (loc.py's
               nl_top / nl_plain), i.e. not inside a string, not continued. */
            const uchar *q = p;
            uchar c;

            line_start = 0;
            while (q < end && INDENT[*q])
                q++;
            if (q >= end)
                break;
            c = *q;
            if (c == '#') {
                /* a comment line; the loop below consumes its '\n' */
                comments++;
                q = memchr(q, '\n', (size_t)(end - q));
                p = q ? q : end;
            }
            else {
                if (c == '\n' || (maybe_ws(c) && line_is_blank(q, end)))
                    t.blanks++;
                p = q;
                if (depth == 0 && (c == '\'' || c == '"' || DOC_PREFIX[c]))
                    p = docstring(q, end, &t, &comments);
            }
        }

        while (p < end && !CODE_STOP[*p])
            p++;
        if (p >= end)
            break;

        switch (*p) {
        case '\n':
            t.lines++;
            p++;
            line_start = 1;
            break;
        case '#': /* a comment after code: to the end of the line */
            p = memchr(p, '\n', (size_t)(end - p));
            if (p == NULL)
                p = end;
            break;
        case '\'':
        case '"':
            if (p + 2 < end && p[1] == *p && p[2] == *p)
                p = scan_triple(p, end, &t);
            else
                p = scan_single(p, end, &t);
            break;
        case '\\':
            /* outside strings a backslash takes the next character along
               (loc.py's `backslash`), a newline too: the next line is then a
               continuation, where no comment / docstring rule applies. Except
               before a comment line: that stays a comment line (as tokenize
               says), so the backslash is skipped and the newline read as one. */
            if (p + 1 < end && p[1] == '\n') {
                const uchar *q = p + 2;
                while (q < end && INDENT[*q])
                    q++;
                if (q < end && *q == '#') {
                    p++;
                    break;
                }
                tally_newline(&t, p + 1, end);
            }
            p = p + 1 < end ? p + 2 : end;
            break;
        case '(':
        case '[':
        case '{':
            depth++;
            p++;
            break;
        default: /* ) ] } -- any closes any; never below 0 */
            if (depth > 0)
                depth--;
            p++;
            break;
        }
    }

    /* cloc's rule (loc._count): a first-line #! is code; that line is always
       counted as a comment line above */
    if (n >= 2 && buf[0] == '#' && buf[1] == '!')
        comments--;

    out->total = t.lines;
    out->blank = t.blanks;
    out->comment = comments;
    out->code = t.lines - t.blanks - comments;
}

/* Counts of data[0:n]: newlines normalised (a copy) when needed. Returns 0 if
 * memory for that copy ran out. Runs without the GIL. */
static int
count_bytes(const uchar *data, size_t n, Counts *out)
{
    uchar *copy;
    size_t i, j;

    memset(out, 0, sizeof(*out));
    if (n == 0)
        return 1;
    if (data[n - 1] == '\n' && memchr(data, '\r', n) == NULL) {
        count_text(data, n, out);
        return 1;
    }
    /* loc._prepare: "\r\n" and a lone "\r" become "\n"; end with a "\n" */
    copy = malloc(n + 1);
    if (copy == NULL)
        return 0;
    for (i = j = 0; i < n; i++) {
        uchar c = data[i];
        if (c == '\r') {
            c = '\n';
            if (i + 1 < n && data[i + 1] == '\n')
                i++;
        }
        copy[j++] = c;
    }
    if (copy[j - 1] != '\n')
        copy[j++] = '\n';
    count_text(copy, j, out);
    free(copy);
    return 1;
}

static PyObject *
pycount_count(PyObject *module, PyObject *arg)
{
    Py_buffer view;
    Counts c;
    int ok;

    (void)module;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    ok = count_bytes((const uchar *)view.buf, (size_t)view.len, &c);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (!ok)
        return PyErr_NoMemory();
    return Py_BuildValue("(nnnn)", c.code, c.comment, c.blank, c.total);
}

PyDoc_STRVAR(count_doc,
"count(data, /)\n--\n\n"
"(code, comment, blank, total) lines of Python source: data is a bytes-like\n"
"object holding UTF-8 text. The same numbers as\n"
"attune.models.loc._count(data.decode(), \"Python\"), several times faster.");

static PyMethodDef pycount_methods[] = {
    {"count", pycount_count, METH_O, count_doc},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot pycount_slots[] = {
    {0, NULL},
};

PyDoc_STRVAR(module_doc,
"Lines of code of Python source, in C: the accelerator of attune.models.loc.");

static struct PyModuleDef pycount_module = {
    PyModuleDef_HEAD_INIT,
    "attune.models._pycount",
    module_doc,
    0, /* no per-module state */
    pycount_methods,
    pycount_slots,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__pycount(void)
{
    return PyModuleDef_Init(&pycount_module);
}
