/* SPDX-License-Identifier: Apache-2.0 */
/* parse: what a parser of untrusted bytes answers (STYLE.md): it consumed
 * what it was given, it needs more before it can say, or the input is not
 * what it parses. Parsers never read past the length they were given. */
#ifndef TV_PARSE_H
#define TV_PARSE_H

enum tv_parse {
	TV_PARSE_OK = 0,
	TV_PARSE_NEED_MORE = 1,
	TV_PARSE_ERROR = -1,
};

#endif
