/* main.c - cadre-agent entry point (placeholder until the agent lands). */
#include <stdio.h>
int main(void)
{
    fprintf(stderr, "cadre-agent: not built yet\n");
    return 1;
}
