// A helper that builds DOM elements, so that text from the server never goes through innerHTML.

// Creates an element with attributes (properties when the name is one, such as textContent or
// hidden) and children.
export function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name in node && typeof value !== 'string') node[name] = value;
    else if (name === 'textContent' || name === 'className') node[name] = value;
    else node.setAttribute(name, value === true ? '' : value);
  }
  node.append(...children);
  return node;
}
