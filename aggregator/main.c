/* main.c - cadre-aggregator entry point (placeholder until the aggregator lands). */
#include <stdio.h>
int main(void)
{
    fprintf(stderr, "cadre-aggregator: not built yet\n");
    return 1;
}
