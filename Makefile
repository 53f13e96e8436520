# hookbridge - build, test, run.
#
#   make run        install missing Debian packages, build, start the server on ./hookbridge.db
#   make test       install missing Debian packages, build, run every test
#   make SANITIZE=1 test    the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz       build the libFuzzer targets (clang) and run each briefly
#   make test T=NAME        run one test (a unit test name, or a black-box script name)

CC       ?= cc
PKGS     := libcurl sqlite3 libpq jansson libmicrohttpd libcrypto
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2 \
            -Wno-format-nonliteral -Wno-missing-field-initializers -Wpointer-arith -Wcast-align -Wnull-dereference -Wundef
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c17 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L $(WARN) -Isrc \
            -DHB_VERSION='"$(VERSION)"'
ifeq ($(WERROR),1)
CFLAGS   += -Werror
endif

BUILD    := build
ifeq ($(SANITIZE),1)
BUILD    := build/san
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS    += $(PKG_LIBS) -lm

LIB_SRC  := $(shell find src -name '*.c' ! -path src/main.c | sort)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)
RECV_SRC := $(sort $(wildcard tests/receiver/*.c))
RECV_OBJ := $(RECV_SRC:%.c=$(BUILD)/%.o)
DEPS     := $(LIB_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(RECV_OBJ:.o=.d) $(BUILD)/src/main.d

BIN      := $(BUILD)/hookbridge
UNIT     := $(BUILD)/unit-tests
RECEIVER := $(BUILD)/test-receiver

.PHONY: all deps build run test unit fuzz clean format bench

all: build
build: $(BIN) $(UNIT) $(if $(RECV_SRC),$(RECEIVER))

deps:
	@sh scripts/install-deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libhookbridge.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/src/main.o $(BUILD)/libhookbridge.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(UNIT): $(UNIT_OBJ) $(BUILD)/libhookbridge.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(RECEIVER): $(RECV_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

run: deps
	@$(MAKE) --no-print-directory build
	@sh scripts/run.sh $(BIN)

test: deps
	@$(MAKE) --no-print-directory build
	@HB_BUILD=$(BUILD) sh tests/run.sh $(T)

unit: build
	$(UNIT) $(T)

fuzz: deps
	@sh fuzz/run.sh $(FUZZ_SECONDS)

bench: deps
	@$(MAKE) --no-print-directory build
	@for b in bench/*.sh; do sh $$b || exit 1; done

format:
	clang-format -i $$(find src tests fuzz bench -name '*.[ch]')

clean:
	rm -rf build

-include $(DEPS)

# The OpenAPI document is built into the binary (src/api/openapi.c includes it).
$(BUILD)/src/api/openapi.o: docs/openapi.json
