#ifndef TAGWAVE_CHIREDIS_SHIM_H
#define TAGWAVE_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

// A reply read into one arena instead of a tree of redisReply objects.
//
// hiredis's default reader allocates two blocks per element (the object and its bytes) and frees
// them one by one afterwards: a batch of a thousand stream entries is some twenty thousand
// allocations. With these reply functions (hiredis's redisReplyObjectFunctions, set on the reader)
// a reply becomes a flat list of nodes in pre-order (an array node is followed by its elements)
// and one byte buffer, both reused from reply to reply.

/// One element of a reply: `type` is a REDIS_REPLY_* kind. A string (STRING, STATUS, ERROR) has
/// `count` bytes at offset `value` of the arena's bytes; an ARRAY has `count` elements, the nodes
/// after it; an INTEGER's value is `value`; a NIL (nil bulk or nil array) has neither.
typedef struct {
    int type;
    int count;
    long long value;
} tagwave_reply_node;

typedef struct {
    tagwave_reply_node *nodes;
    size_t node_count;
    size_t node_capacity;
    char *bytes;
    size_t byte_count;
    size_t byte_capacity;
} tagwave_reply_arena;

static inline tagwave_reply_arena *tagwave_reply_arena_create(void) {
    return (tagwave_reply_arena *)calloc(1, sizeof(tagwave_reply_arena));
}

static inline void tagwave_reply_arena_free(tagwave_reply_arena *arena) {
    if (arena == NULL) return;
    free(arena->nodes);
    free(arena->bytes);
    free(arena);
}

/// Empties the arena for the next reply, keeping its memory.
static inline void tagwave_reply_arena_reset(tagwave_reply_arena *arena) {
    arena->node_count = 0;
    arena->byte_count = 0;
}

/// Appends a node; returns a non-NULL token (hiredis only checks it for NULL, meaning out of memory).
static inline void *tagwave_reply_arena_append(tagwave_reply_arena *arena, int type, int count, long long value) {
    if (arena->node_count == arena->node_capacity) {
        size_t capacity = arena->node_capacity ? arena->node_capacity * 2 : 256;
        tagwave_reply_node *nodes = (tagwave_reply_node *)realloc(arena->nodes, capacity * sizeof(tagwave_reply_node));
        if (nodes == NULL) return NULL;
        arena->nodes = nodes;
        arena->node_capacity = capacity;
    }
    tagwave_reply_node node = {type, count, value};
    arena->nodes[arena->node_count++] = node;
    return (void *)(uintptr_t)arena->node_count;
}

static inline void *tagwave_reply_create_string(const redisReadTask *task, char *text, size_t length) {
    tagwave_reply_arena *arena = (tagwave_reply_arena *)task->privdata;
    if (length > INT32_MAX) return NULL;
    if (arena->byte_count + length > arena->byte_capacity) {
        size_t capacity = arena->byte_capacity ? arena->byte_capacity * 2 : 4096;
        while (capacity < arena->byte_count + length) capacity *= 2;
        char *bytes = (char *)realloc(arena->bytes, capacity);
        if (bytes == NULL) return NULL;
        arena->bytes = bytes;
        arena->byte_capacity = capacity;
    }
    if (length > 0) memcpy(arena->bytes + arena->byte_count, text, length);
    void *token = tagwave_reply_arena_append(arena, task->type, (int)length, (long long)arena->byte_count);
    arena->byte_count += length;
    return token;
}

static inline void *tagwave_reply_create_array(const redisReadTask *task, int elements) {
    return tagwave_reply_arena_append((tagwave_reply_arena *)task->privdata, REDIS_REPLY_ARRAY, elements, 0);
}

static inline void *tagwave_reply_create_integer(const redisReadTask *task, long long value) {
    return tagwave_reply_arena_append((tagwave_reply_arena *)task->privdata, REDIS_REPLY_INTEGER, 0, value);
}

static inline void *tagwave_reply_create_nil(const redisReadTask *task) {
    return tagwave_reply_arena_append((tagwave_reply_arena *)task->privdata, REDIS_REPLY_NIL, 0, 0);
}

/// The arena owns the nodes: nothing to free per reply.
static inline void tagwave_reply_free_object(void *token) { (void)token; }

static redisReplyObjectFunctions tagwave_reply_arena_functions = {
    tagwave_reply_create_string,
    tagwave_reply_create_array,
    tagwave_reply_create_integer,
    tagwave_reply_create_nil,
    tagwave_reply_free_object,
};

/// Makes `context`'s reader build every reply into `arena` (before the first reply is read).
static inline void tagwave_reply_arena_install(redisContext *context, tagwave_reply_arena *arena) {
    context->reader->fn = &tagwave_reply_arena_functions;
    context->reader->privdata = arena;
}
#endif
