/**
 * The backend service provider interface and the rules that select a backend at run time.
 */
package dev.mue.api.spi;
