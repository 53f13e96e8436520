/*
 * openapi.c - docs/openapi.json built into the binary, so /api/v1/openapi.json serves the very
 * document the tests check the API against. (The Makefile rebuilds this file when it changes.)
 */
#include <stddef.h>

__asm__(".section .rodata\n"
	".global hb_openapi_json\n"
	".type hb_openapi_json, @object\n"
	".balign 16\n"
	"hb_openapi_json:\n"
	".incbin \"docs/openapi.json\"\n"
	"hb_openapi_json_end:\n"
	".byte 0\n"
	".global hb_openapi_json_len\n"
	".type hb_openapi_json_len, @object\n"
	".balign 8\n"
	"hb_openapi_json_len:\n"
	".quad hb_openapi_json_end - hb_openapi_json\n"
	".previous\n");
