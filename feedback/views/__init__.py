"""The portal's pages, one module per page family. Views validate (a form), fetch through
``feedback.access`` or ``feedback.selectors``, call one service and render; nothing below this
package imports it (import-linter, ``.importlinter``)."""
