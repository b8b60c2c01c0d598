/* version.h - Cadre's version, as both binaries report it. */
#ifndef CADRE_VERSION_H
#define CADRE_VERSION_H

/* The build may pass -DCADRE_VERSION="..." (for example from git describe). */
#ifndef CADRE_VERSION
#define CADRE_VERSION "0.1.0"
#endif

#endif
