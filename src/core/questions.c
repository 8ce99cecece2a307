/* Custom questions: the answers a booking gives, checked against the typed
 * questions of the catalog before anything is written, and the JSON text the
 * order and its tickets carry them in (docs/MODEL.md, "Custom questions"). */
#include "core/internal.h"
#include "util/jbuf.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ANSWER_MAX_BYTES 2000 /* a textarea's; one-line answers take ANSWER_LINE_MAX */
#define ANSWER_LINE_MAX 500

static bool no_controls(const char *s, bool multiline)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && !(multiline && (*p == '\n' || *p == '\r' || *p == '\t'))) || *p == 0x7f) return false;
    return true;
}

static bool email_like(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@') || strlen(s) > 254) return false;
    const char *dot = strrchr(at + 1, '.');
    if (!dot || dot == at + 1 || !dot[1]) return false;
    for (const char *p = s; *p; p++)
        if (isspace((unsigned char)*p)) return false;
    return true;
}

static bool phone_like(const char *s)
{
    int digits = 0;
    if (strlen(s) > 32) return false;
    for (const char *p = s; *p; p++) {
        if (isdigit((unsigned char)*p)) digits++;
        else if (!strchr(" +-().", *p)) return false;
    }
    return digits >= 3;
}

static bool number_like(const char *s)
{
    const char *p = s + (*s == '-');
    size_t digits = strspn(p, "0123456789");
    if (!digits || strlen(s) > 32) return false;
    p += digits;
    if (*p == '.') {
        size_t frac = strspn(p + 1, "0123456789");
        if (!frac) return false;
        p += 1 + frac;
    }
    return !*p;
}

/* Whether answer text fits question q; *why says how it does not. */
static bool answer_fits(const cat_question *q, const char *answer, const char **why)
{
    size_t len = strlen(answer);
    bool multiline = q->type == QUESTION_TEXTAREA;
    *why = NULL;
    if (len > (multiline ? ANSWER_MAX_BYTES : ANSWER_LINE_MAX) || !no_controls(answer, multiline))
        *why = multiline ? "is at most 2000 bytes of text" : "is one line of at most 500 bytes";
    else if (q->type == QUESTION_SELECT) {
        size_t i;
        for (i = 0; i < q->noptions && strcmp(q->options[i], answer); i++) {}
        if (i == q->noptions) *why = "is not one of the question's options";
    } else if (q->type == QUESTION_CHECKBOX) {
        if (strcmp(answer, "true") && strcmp(answer, "false")) *why = "is true or false";
        else if (q->required && strcmp(answer, "true")) *why = "must be true (the box is required)";
    } else if (q->type == QUESTION_EMAIL && !email_like(answer)) *why = "is not an e-mail address";
    else if (q->type == QUESTION_PHONE && !phone_like(answer)) *why = "is not a phone number";
    else if (q->type == QUESTION_NUMBER && !number_like(answer)) *why = "is not a number";
    else if (q->type == QUESTION_DATE) {
        civil_date d;
        if (!date_parse(answer, &d)) *why = "is not a date YYYY-MM-DD";
    }
    return !*why;
}

bo_status answers_check(const catalog_model *m, const question_answer *answers, size_t n, bo_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const question_answer *x = &answers[i];
        char field[64];
        snprintf(field, sizeof field, "answers[%zu].question_id", i);
        const cat_question *q = x->question_id ? model_question(m, x->question_id) : NULL;
        if (!q)
            return bo_fail(err, BO_INVALID, "unknown_question", field, "%s: no such question", field);
        for (size_t k = 0; k < i; k++)
            if (!strcmp(answers[k].question_id, x->question_id) && answers[k].ticket_index == x->ticket_index)
                return bo_fail(err, BO_INVALID, "duplicate_answer", field, "question %s is answered twice%s",
                               q->id, q->per_ticket ? " for one ticket" : "");
        snprintf(field, sizeof field, "answers[%zu].ticket_index", i);
        if (q->per_ticket && x->ticket_index < 0)
            return bo_fail(err, BO_INVALID, "missing_field", field,
                           "question %s is asked per ticket: say which ticket (ticket_index)", q->id);
        if (!q->per_ticket && x->ticket_index >= 0)
            return bo_fail(err, BO_INVALID, "invalid_field", field,
                           "question %s is asked once for the order: it takes no ticket_index", q->id);
        snprintf(field, sizeof field, "answers[%zu].answer", i);
        const char *why;
        if (!x->answer) return bo_fail(err, BO_INVALID, "missing_field", field, "%s is required", field);
        /* an empty answer is no answer: a required question then misses it */
        if (*x->answer && !answer_fits(q, x->answer, &why))
            return bo_fail(err, BO_INVALID, "invalid_answer", field, "the answer to question %s %s", q->id, why);
    }
    return BO_OK;
}

/* The answer given to q for ticket index (-1: the order), or NULL. */
static const question_answer *answer_for(const question_answer *answers, size_t n, const cat_question *q,
                                         int64_t index)
{
    for (size_t i = 0; i < n; i++)
        if (answers[i].ticket_index == index && !strcmp(answers[i].question_id, q->id)) return &answers[i];
    return NULL;
}

static bool cart_has_product_for(const store_cart *cart, const cat_question *q)
{
    for (size_t i = 0; i < cart->nlines; i++)
        if (question_asked_for(q, cart->lines[i].product_id)) return true;
    return false;
}

/* The product of ticket `index` of the cart (counted over its lines in order), or NULL past its end. */
static const char *cart_ticket_product(const store_cart *cart, int64_t index)
{
    for (size_t i = 0; i < cart->nlines; i++) {
        if (index < cart->lines[i].quantity) return cart->lines[i].product_id;
        index -= cart->lines[i].quantity;
    }
    return NULL;
}

bo_status answers_check_cart(const catalog_model *m, const question_answer *answers, size_t n, bool enforce_required,
                             const store_cart *cart, bo_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const cat_question *q = model_question(m, answers[i].question_id);
        char field[64];
        if (!q) /* answers_check saw it: gone from the catalog since */
            return bo_fail(err, BO_CONFLICT, "cart_outdated", "answers", "question %s left the catalog",
                           answers[i].question_id);
        if (q->per_ticket) {
            const char *product = cart_ticket_product(cart, answers[i].ticket_index);
            snprintf(field, sizeof field, "answers[%zu].ticket_index", i);
            if (!product)
                return bo_fail(err, BO_INVALID, "invalid_field", field, "the order has no ticket %lld",
                               (long long)answers[i].ticket_index);
            snprintf(field, sizeof field, "answers[%zu].question_id", i);
            if (!question_asked_for(q, product))
                return bo_fail(err, BO_INVALID, "question_not_asked", field,
                               "question %s is not asked for ticket %lld (product %s)", q->id,
                               (long long)answers[i].ticket_index, product);
        } else if (!cart_has_product_for(cart, q)) {
            snprintf(field, sizeof field, "answers[%zu].question_id", i);
            return bo_fail(err, BO_INVALID, "question_not_asked", field,
                           "question %s is not asked for the products of this order", q->id);
        }
    }
    if (!enforce_required) return BO_OK;
    for (size_t k = 0; k < model_count(m, CAT_QUESTION); k++) {
        const cat_question *q = model_object_at(m, CAT_QUESTION, k);
        if (!q->required) continue;
        if (!q->per_ticket) {
            const question_answer *x = answer_for(answers, n, q, -1);
            if (cart_has_product_for(cart, q) && (!x || !*x->answer))
                return bo_fail(err, BO_INVALID, "missing_answer", "answers", "question %s must be answered", q->id);
            continue;
        }
        int64_t index = 0;
        for (size_t i = 0; i < cart->nlines; i++)
            for (int64_t t = 0; t < cart->lines[i].quantity; t++, index++) {
                const question_answer *x = answer_for(answers, n, q, index);
                if (question_asked_for(q, cart->lines[i].product_id) && (!x || !*x->answer))
                    return bo_fail(err, BO_INVALID, "missing_answer", "answers",
                                   "question %s must be answered for ticket %lld", q->id, (long long)index);
            }
    }
    return BO_OK;
}

char *answers_json(const catalog_model *m, const question_answer *answers, size_t n, int64_t index)
{
    static const char *const types[] = {"text", "textarea", "select", "checkbox", "email", "phone", "date", "number"};
    jbuf w;
    bool any = false;
    jb_init(&w, 256);
    jb_arr(&w);
    for (size_t i = 0; i < n; i++) {
        const cat_question *q = model_question(m, answers[i].question_id);
        /* an empty answer to an optional question is no answer */
        if (!q || answers[i].ticket_index != index || !*answers[i].answer) continue;
        any = true;
        jb_obj(&w);
        jb_key(&w, "question_id"), jb_str(&w, q->id);
        jb_key(&w, "label"), jb_raw(&w, q->label_json);
        jb_key(&w, "type"), jb_str(&w, types[q->type]);
        jb_key(&w, "answer"), jb_str(&w, answers[i].answer);
        jb_obj_end(&w);
    }
    jb_arr_end(&w);
    char *text = jb_take(&w, NULL);
    if (!any) {
        free(text);
        return NULL;
    }
    return text;
}
