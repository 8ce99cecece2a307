/* The demo account of docs/demo.md: fixed credentials and a small catalog. */
#ifndef BO_DEMO_H
#define BO_DEMO_H
#include "core/engine.h"
/* Idempotent: creates what is missing, changes nothing that exists. */
bo_status demo_seed(engine *e, bo_error *err);
#endif
